/** Unreferenced artifacts younger than this stay: an in-flight workflow may have written one and not yet recorded it. */
export const DEFAULT_ARTIFACT_GRACE_MS = 24 * 60 * 60 * 1000;

/** The Temporal Schedule that runs the artifact collection (one per namespace). */
export const ARTIFACT_GC_SCHEDULE_ID = 'artifact-gc';

export interface ArtifactCollectionInput {
  /** Milliseconds an unreferenced artifact or temp file is kept after it was written. */
  graceMs: number;
}

export interface ArtifactCollectionResult {
  scanned: number;
  deleted: number;
  bytesFreed: number;
  keptReferenced: number;
  keptYoung: number;
  tempFilesDeleted: number;
}
