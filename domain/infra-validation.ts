/** What infra-validation measured: a batch of held-out rows scored, then one-row calls timed against the budget. */
export interface InfraValidationResult {
  /** Held-out rows scored in one batch in the serving-runtime process. */
  rows: number;
  latencyCalls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  latencyBudgetMs: number;
}

/** Infra-validation's verdict as stored on the version: the measurements when it passed, the reason when it did not. */
export type InfraValidationRecord = ({ passed: true } & InfraValidationResult & { at: string }) | { passed: false; reason: string; message: string; at: string };
