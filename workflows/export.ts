import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ExportResult } from './contracts';
import { cpuActivityOptions } from './activity-options';

const { exportOnnxModel } = proxyActivities<Activities>(cpuActivityOptions);

/** Writes the trained model as an ONNX graph with its standardisation baked in. */
export async function exportModel(input: { trainingRunId: string; modelUri: string }): Promise<ExportResult> {
  return exportOnnxModel(input);
}
