import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../artifacts/store';
import type { Db } from '../db/client';
import type { Logger } from '../platform/logger';
import type { Predictor } from '../serving/predictor';
import type { TaskQueues } from '../workflows/contracts';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  artifacts: ArtifactStore;
  predictor: Predictor;
  logger: Logger;
  taskQueues: TaskQueues;
  maxUploadBytes: number;
  /** Base URL of the Temporal Web UI, when one runs, for links in responses. */
  temporalUiUrl?: string;
  temporalNamespace: string;
  /** Grace period of an artifact collection started through the API (default 24 h). */
  artifactGraceMs?: number;
}
