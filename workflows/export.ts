import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ExportInput, ExportResult } from './contracts';
import { exportActivityOptions } from './activity-options';

/** Writes the trained model as an ONNX graph with its standardisation baked in. */
export async function exportModel(input: ExportInput): Promise<ExportResult> {
  const { exportOnnxModel } = proxyActivities<Activities>(exportActivityOptions(input.timeouts));
  return exportOnnxModel(input);
}
