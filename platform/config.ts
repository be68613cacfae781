import path from 'node:path';
import { z } from 'zod';
import { parseSecretKey } from './secret-box';
import { parseWebhookAllowList, type WebhookAllowList } from './webhook-targets';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[\w.-]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: z.string().optional(),
  FACTORY_HOME: z.string().min(1).default('./.factory'),
  ARTIFACT_STORE: z
    .string()
    .regex(/^file:\/\//, 'only file:// stores are supported so far (s3:// is planned)')
    .optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  FACTORY_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  FACTORY_ADMIN_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  FACTORY_ADMIN_OWNER: z.string().trim().min(1).max(200, 'must be at most 200 characters').default('admin'),
  FACTORY_MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  FACTORY_ARTIFACT_GC_INTERVAL_HOURS: z.coerce.number().positive().default(24),
  FACTORY_ARTIFACT_GRACE_HOURS: z.coerce.number().min(0).default(24),
  FACTORY_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  FACTORY_SECRET_KEY: z.string().optional(),
  FACTORY_WEBHOOK_ALLOW_HOSTS: z.string().optional(),
  FACTORY_ROUTING_POLL_MS: z.coerce.number().int().min(100, 'must be at least 100 (milliseconds)').default(5_000),
  FACTORY_SESSION_CACHE_SIZE: z.coerce.number().int().min(1, 'must keep at least one session').default(16),
  FACTORY_BATCHING: z.enum(['on', 'off'], { message: "must be 'on' or 'off'" }).default('on'),
  FACTORY_BATCH_MAX_ROWS: z.coerce.number().int().min(1).max(100_000).default(256),
  FACTORY_BATCH_MAX_DELAY_MS: z.coerce.number().min(0).max(1_000, 'must be at most 1000 (milliseconds)').default(0),
  FACTORY_PREDICTION_LOG_MAX_PENDING_ROWS: z.coerce.number().int().min(1).default(20_000),
  FACTORY_PREDICTION_LOG_CHUNK_ROWS: z.coerce.number().int().min(1).max(5_000, 'must be at most 5000 (PostgreSQL allows 65535 parameters per INSERT)').default(500),
  FACTORY_API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000, 'must be at most 60000: a revoked key works this long on other processes').default(5_000),
});

export interface FactoryConfig {
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalCliPath: string | undefined;
  home: string;
  artifactRoot: string;
  port: number;
  temporalUiPort: number;
  /** gRPC port of the embedded dev server (when TEMPORAL_ADDRESS is unset). */
  temporalPort: number;
  /** How long a heartbeating activity may stay silent before Temporal retries it on another worker. */
  heartbeatTimeoutMs: number;
  adminKey: string | undefined;
  /** Who the bootstrap admin key belongs to (FACTORY_ADMIN_OWNER): four eyes compare owners. */
  adminOwner: string;
  maxUploadBytes: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** The `artifact-gc` schedule: how often it runs, and how old an unreferenced artifact must be to go. */
  artifactGc: { intervalHours: number; graceMs: number };
  /** Bearer token /metrics accepts; unset, only an admin key of the installation's project can scrape. */
  metricsToken: string | undefined;
  /** FACTORY_SECRET_KEY: seals webhook secrets at rest (AES-256-GCM); `npm start` keeps one in FACTORY_HOME when unset. */
  secretKey: Buffer | undefined;
  /** FACTORY_WEBHOOK_ALLOW_HOSTS: internal hosts and ranges webhooks may still reach. */
  webhookAllowList: WebhookAllowList;
  serving: ServingConfig;
}

/** The inference data plane's knobs (FACTORY_ROUTING_POLL_MS, FACTORY_BATCH_*, FACTORY_PREDICTION_LOG_*, …). */
export interface ServingConfig {
  /** How often the routing table compares endpoints' updated_at: a safety net under LISTEN/NOTIFY. */
  routingPollMs: number;
  /** ONNX sessions kept loaded (an LRU by model version). */
  sessionCacheSize: number;
  /** Dynamic batching: concurrent requests to one model version share an onnxruntime run. */
  batching: { enabled: boolean; maxRows: number; maxDelayMs: number };
  /** Pending prediction-log rows above which predict answers 503, and rows per INSERT. */
  predictionLog: { maxPendingRows: number; chunkRows: number };
  /** How long an API key lookup is reused; 0 reads the database on every request. */
  apiKeyCacheTtlMs: number;
}

export const DEFAULT_SERVING_CONFIG: ServingConfig = {
  routingPollMs: 5_000,
  sessionCacheSize: 16,
  batching: { enabled: true, maxRows: 256, maxDelayMs: 0 },
  predictionLog: { maxPendingRows: 20_000, chunkRows: 500 },
  apiKeyCacheTtlMs: 5_000,
};

/** Thrown at start-up with one line per environment problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FactoryConfig {
  // An empty variable means "unset", as in most twelve-factor tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const rawKey = present.FACTORY_SECRET_KEY;
  const secretKey = rawKey === undefined ? undefined : parseSecretKey(rawKey);
  if (rawKey !== undefined && !secretKey) problems.push('FACTORY_SECRET_KEY: must be base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`');
  const webhookAllow = parseWebhookAllowList(present.FACTORY_WEBHOOK_ALLOW_HOSTS);
  problems.push(...webhookAllow.problems.map((p) => `FACTORY_WEBHOOK_ALLOW_HOSTS: ${p}`));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const home = path.resolve(e.FACTORY_HOME);
  const artifactRoot = e.ARTIFACT_STORE ? new URL(e.ARTIFACT_STORE).pathname : path.join(home, 'artifacts');
  return {
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    home,
    artifactRoot,
    port: e.PORT,
    temporalUiPort: e.TEMPORAL_UI_PORT,
    temporalPort: e.TEMPORAL_PORT,
    heartbeatTimeoutMs: e.FACTORY_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    adminKey: e.FACTORY_ADMIN_KEY,
    adminOwner: e.FACTORY_ADMIN_OWNER,
    maxUploadBytes: e.FACTORY_MAX_UPLOAD_BYTES,
    logLevel: e.LOG_LEVEL,
    artifactGc: { intervalHours: e.FACTORY_ARTIFACT_GC_INTERVAL_HOURS, graceMs: e.FACTORY_ARTIFACT_GRACE_HOURS * 3_600_000 },
    metricsToken: e.FACTORY_METRICS_TOKEN,
    secretKey,
    webhookAllowList: webhookAllow.allow,
    serving: {
      routingPollMs: e.FACTORY_ROUTING_POLL_MS,
      sessionCacheSize: e.FACTORY_SESSION_CACHE_SIZE,
      batching: { enabled: e.FACTORY_BATCHING === 'on', maxRows: e.FACTORY_BATCH_MAX_ROWS, maxDelayMs: e.FACTORY_BATCH_MAX_DELAY_MS },
      predictionLog: { maxPendingRows: e.FACTORY_PREDICTION_LOG_MAX_PENDING_ROWS, chunkRows: e.FACTORY_PREDICTION_LOG_CHUNK_ROWS },
      apiKeyCacheTtlMs: e.FACTORY_API_KEY_CACHE_TTL_MS,
    },
  };
}
