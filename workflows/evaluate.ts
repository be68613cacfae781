import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EvaluateInput, EvaluationSummary } from './contracts';
import { evaluationActivityOptions } from './activity-options';

/** Scores the ONNX model on the held-out split and checks it against the TensorFlow.js model. */
export async function evaluateModel(input: EvaluateInput): Promise<EvaluationSummary> {
  const { evaluateOnHoldout } = proxyActivities<Activities>(evaluationActivityOptions(input.timeouts));
  return evaluateOnHoldout(input);
}
