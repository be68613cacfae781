import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../artifacts/store';
import type { Db } from '../db/client';
import type { Logger } from '../platform/logger';
import type { WebhookTargetPolicy } from '../platform/webhook-targets';
import type { ServingMetrics } from '../serving/metrics';
import type { ApiKeyCache } from './middleware/api-key-auth';
import type { Predictor } from '../serving/predictor';
import type { ActivityTimeouts, TaskQueues } from '../workflows/contracts';

export interface ApiDeps {
  db: Db;
  temporal: Client;
  artifacts: ArtifactStore;
  predictor: Predictor;
  /** Prometheus series of the inference path, served at /metrics. */
  metrics: ServingMetrics;
  /** FACTORY_METRICS_TOKEN: a bearer token /metrics accepts (besides an admin key of the installation's project). */
  metricsToken?: string;
  /** FACTORY_SECRET_KEY: seals webhook secrets at rest; without it webhooks cannot be created. */
  secretKey?: Buffer;
  /** Which webhook URLs may be registered (FACTORY_WEBHOOK_ALLOW_HOSTS) and how host names resolve; default: public addresses only. */
  webhookTargets?: WebhookTargetPolicy;
  /** True once shutdown began: readiness probes fail so load balancers stop sending traffic. */
  draining?: () => boolean;
  logger: Logger;
  taskQueues: TaskQueues;
  maxUploadBytes: number;
  /** Base URL of the Temporal Web UI, when one runs, for links in responses. */
  temporalUiUrl?: string;
  temporalNamespace: string;
  /** Passed to every workflow the API starts; unset means the workflows' defaults. */
  activityTimeouts?: ActivityTimeouts;
  /** Grace period of an artifact collection started through the API (default 24 h). */
  artifactGraceMs?: number;
  /** How long an API key lookup is reused (FACTORY_API_KEY_CACHE_TTL_MS, default 5 s); 0 reads the database every time. */
  apiKeyCacheTtlMs?: number;
  /** Set by createApp: the auth middleware's key cache, which the revoke route clears. */
  apiKeyCache?: ApiKeyCache;
}
