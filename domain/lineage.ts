/** Where a model version came from, written at register time: enough to rebuild or audit it. */
export interface ModelLineage {
  trainingRunId: string;
  dataset: { id: string; name: string | null; versionId: string; version: number | null; contentHash: string | null };
  codeVersion: string;
  /** The pipeline's workflow and each stage's; null when the stage ran outside a pipeline. */
  workflows: { pipeline: string | null; train: string; export: string | null; evaluate: string | null; register: string };
}
