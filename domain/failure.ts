/** What a failed or cancelled pipeline stage records on its rows: the deepest cause, typed where it can be. */
export interface FailureCause {
  /** The pipeline stage that failed (train, export, evaluate, register, deploy). */
  stage: string;
  /** `ApplicationFailure.type` (e.g. `OnnxParityFailed`, `InvalidInput`), or `cancelled`, `terminated`, `timeout`, or the error's name. */
  type: string;
  /** The user-facing code of an InvalidInput/NotFound failure (e.g. `too_few_rows`), else null. */
  code: string | null;
  message: string;
}
