/**
 * `ApplicationFailure.type` strings. A failure of one of these types is non-retryable and carries a
 * `UserFailureDetails` as its first detail, so the API can answer with the same code and sentence.
 */
export const FailureType = {
  /** The user's input (CSV, training spec, record) cannot be used as it is. */
  InvalidInput: 'InvalidInput',
  /** Something the input names (dataset, endpoint, model version) does not exist. */
  NotFound: 'NotFound',
  /** The exported ONNX graph does not reproduce the trained model within tolerance. */
  OnnxParityFailed: 'OnnxParityFailed',
  /** Another promotion of the same alias was running when the pipeline's promotion stage began. */
  PromotionInProgress: 'PromotionInProgress',
  /** The candidate crashed, hung, gave malformed or non-finite outputs, or was too slow in a serving-runtime process. */
  InfraValidationFailed: 'InfraValidationFailed',
  /** A retrain's window holds no labelled answer usable as a training row: nothing new to learn from (code `no_labelled_traffic`). */
  NoLabelledTraffic: 'NoLabelledTraffic',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

export interface UserFailureDetails {
  code: string;
  status: number;
  details: Record<string, string | number>;
}

/** The deepest message in a failure chain: what actually went wrong, not "child workflow failed". */
export function rootCauseMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) message = e.message;
  return message;
}

/** `patched()` id: failure and cancellation paths record their root cause on the run, model version and endpoint. */
export const RECORD_FAILURE_ROOT_CAUSE = 'record-failure-root-cause';

/** `ApplicationFailure.type` strings of the approval Update's validator; the API maps each to its 4xx. */
export const ApprovalRefusal = {
  /** The promotion has no pending decision (already decided, or no approval needed): 409. */
  NotWaiting: 'NotWaitingForApproval',
  /** The decider started the promotion (four eyes): 403. */
  OwnModel: 'CannotApproveOwnModel',
  /** The decision is not approve or reject: 422. */
  InvalidDecision: 'InvalidApprovalDecision',
} as const;

/** `patched()` id: a pipeline with `promotion` runs the promoteModel child before deploy. */
export const PROMOTION_STAGE = 'promotion-stage';
