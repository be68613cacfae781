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
