import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle, type DatabaseTarget } from '../../db/client';
import { apiKeys } from '../../db/schema';
import { DEFAULT_SERVING_CONFIG, type ServingConfig } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { displayPrefix, hashApiKey } from '../../platform/api-keys';
import { bootstrapProject } from '../../db/queries/projects';
import { startFactory, type Factory, type FactoryOptions } from '../../factory/start-factory';
import { installTemporalLogger } from '../../platform/temporal-logger';
import { newId } from '../../platform/ids';
import { parseWebhookAllowList } from '../../platform/webhook-targets';
import type { TaskQueues } from '../../workflows/contracts';

export interface TestFactory {
  factory: Factory;
  database: DatabaseHandle;
  projectId: string;
  adminKey: string;
  taskQueues: TaskQueues;
  /** Where the factory keeps artifacts: a worker in another process needs the same root. */
  artifactRoot: string;
  /** The database a worker in another process connects to (undefined: PGlite on this thread, which no other process can reach). */
  databaseUrl: string | undefined;
  /** Calls the API in-process, as curl would over HTTP, with the admin key unless another is given. */
  request(method: string, path: string, opts?: { json?: unknown; body?: RequestInit['body']; contentType?: string; key?: string | null }): Promise<Response>;
  /** A key of `role`, owned by `owner` (default: a principal of its own). */
  createKey(role: 'viewer' | 'operator' | 'admin' | 'approver', owner?: string): Promise<string>;
  /** More workers on the same queues, database and artifacts: a second machine joining the factory. */
  startWorkers(parts: FactoryOptions['parts'], opts?: Pick<FactoryOptions, 'shutdownGraceTimeMs'>): Promise<Factory>;
  stop(): Promise<void>;
}

/**
 * The whole factory against the suite's Temporal server and database, isolated by its own project and
 * task queues so test files can run side by side. One per test file (beforeAll), never per test.
 */
export async function startTestFactory(
  opts: {
    maxUploadBytes?: number;
    parts?: FactoryOptions['parts'];
    activityTimeouts?: FactoryOptions['activityTimeouts'];
    artifactGc?: FactoryOptions['artifactGc'];
    /** Data-plane knobs; each unset one keeps its default. */
    serving?: Partial<ServingConfig>;
    /** FACTORY_WEBHOOK_ALLOW_HOSTS, e.g. '127.0.0.1' for a test's local receiver; unset: public addresses only. */
    webhookAllowHosts?: string;
    /**
     * Unset: the suite's PostgreSQL, else PGlite in memory on this thread. 'own-process': without PostgreSQL,
     * PGlite in memory served by its own process, so worker processes can share it. A URL: that database
     * (migrated here unless it is the suite's), e.g. the suite's reached through a proxy.
     */
    database?: 'own-process' | { url: string };
  } = {},
): Promise<TestFactory> {
  const suffix = randomUUID().slice(0, 8);
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'error');
  installTemporalLogger(logger);
  const suiteUrl = inject('databaseUrl');
  const target: DatabaseTarget = typeof opts.database === 'object' ? opts.database : suiteUrl ? { url: suiteUrl } : { inMemory: true, ownProcess: opts.database === 'own-process' };
  const database = await openDatabase(target);
  if (!('url' in target) || target.url !== suiteUrl) await database.migrate();
  const adminKey = `afk_test_admin_${suffix}_${randomUUID()}`;
  const { projectId } = await bootstrapProject(database.db, { projectName: `test-${suffix}`, adminKey });
  const artifactRoot = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-test-'));
  const taskQueues = { cpu: `factory-cpu-${suffix}`, gpu: `factory-gpu-${suffix}` };
  const options: FactoryOptions = {
    db: database.db,
    artifactRoot,
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueues,
    logger,
    parts: opts.parts ?? { api: true, cpuWorker: true, gpuWorker: true },
    maxUploadBytes: opts.maxUploadBytes ?? 8 * 1024 * 1024,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activityTimeouts: opts.activityTimeouts,
    artifactGc: opts.artifactGc,
    serving: { ...DEFAULT_SERVING_CONFIG, ...opts.serving },
    secretKey: randomBytes(32),
    webhookAllowList: parseWebhookAllowList(opts.webhookAllowHosts).allow,
    listen: database.listen,
    copyIn: database.copyIn,
  };
  const factory = await startFactory(options);
  const extra: Factory[] = [];

  return {
    factory,
    database,
    projectId,
    adminKey,
    taskQueues,
    artifactRoot,
    databaseUrl: database.url,
    request(method, urlPath, { json, body, contentType, key } = {}) {
      const headers: Record<string, string> = {};
      const apiKey = key === undefined ? adminKey : key;
      if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
      if (json !== undefined) headers['content-type'] = 'application/json';
      if (contentType) headers['content-type'] = contentType;
      return Promise.resolve(
        factory.app.request(urlPath, { method, headers, body: json !== undefined ? JSON.stringify(json) : body }),
      );
    },
    async createKey(role, owner) {
      const key = `afk_test_${role}_${randomUUID()}`;
      await database.db.insert(apiKeys).values({ id: newId('key'), projectId, name: `test ${role}`, owner: owner ?? `test-${role}-${randomUUID().slice(0, 8)}`, role, keyHash: hashApiKey(key), keyPrefix: displayPrefix(key) });
      return key;
    },
    async startWorkers(parts, more = {}) {
      const workers = await startFactory({ ...options, ...more, parts });
      extra.push(workers);
      return workers;
    },
    async stop() {
      for (const workers of extra) await workers.stop();
      await factory.stop();
      await database.close();
      await rm(artifactRoot, { recursive: true, force: true });
    },
  };
}

/** Polls a workflow through the API until it closes; returns the last status body. */
export async function waitForWorkflow(t: TestFactory, workflowId: string, onStatus?: (body: WorkflowStatusBody) => void): Promise<WorkflowStatusBody> {
  const deadline = Date.now() + 110_000;
  for (;;) {
    const res = await t.request('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`);
    const body = (await res.json()) as WorkflowStatusBody;
    onStatus?.(body);
    if (body.status !== 'RUNNING') return body;
    if (Date.now() > deadline) throw new Error(`workflow ${workflowId} still running: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface WorkflowStatusBody {
  status: string;
  type: string;
  progress?: { stage: string; error: string | null; training: { epoch: number; epochs: number; loss: number } | null };
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}
