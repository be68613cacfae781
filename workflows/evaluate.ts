import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EvaluateInput, EvaluationSummary } from './contracts';
import { cpuActivityOptions } from './activity-options';

const { evaluateOnHoldout } = proxyActivities<Activities>(cpuActivityOptions);

/** Scores the ONNX model on the held-out split and checks it against the TensorFlow.js model. */
export async function evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
  return evaluateOnHoldout(input);
}
