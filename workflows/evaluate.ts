import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EvaluateInput, EvaluationSummary } from './contracts';
import { evaluationActivityOptions } from './activity-options';

/** Scores the ONNX model on the held-out split (checked against TensorFlow.js), compares it with the champion and decides the blessing. */
export async function evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
  const { evaluateOnHoldout } = proxyActivities<Activities>(evaluationActivityOptions(input.timeouts));
  return evaluateOnHoldout(input);
}
