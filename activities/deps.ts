import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../artifacts/store';
import type { Db } from '../db/client';
import type { WebhookTargetPolicy } from '../platform/webhook-targets';
import type { ActivityTimeouts, TrainingProgress } from '../workflows/contracts';

export interface ActivityDeps {
  db: Db;
  /** Activities that steer other workflows (the pipeline hands its deploy to the endpoint's controller). */
  temporal: Client;
  artifacts: ArtifactStore;
  /** Best-effort live progress to a running workflow (a signal); failures are logged, not thrown. */
  reportProgress: (workflowId: string, progress: TrainingProgress) => Promise<void>;
  /** Try the GPU binding first (the factory-gpu worker). */
  preferGpu: boolean;
  /** The code version recorded on every training run (package version + git sha when known). */
  codeVersion: string;
  /** The timeouts the API puts in the pipelines it starts, so a retrain's pipeline gets the same. */
  activityTimeouts?: ActivityTimeouts;
  /** FACTORY_SECRET_KEY: opens webhook secrets to sign deliveries. */
  secretKey?: Buffer;
  /** Which addresses webhook deliveries may reach (FACTORY_WEBHOOK_ALLOW_HOSTS) and how host names resolve. */
  webhookTargets?: WebhookTargetPolicy;
}
