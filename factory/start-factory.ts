import type { ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import type { Hono } from 'hono';
import type { ActivityDeps } from '../activities';
import { createApp } from '../api/app';
import type { ApiEnv } from '../api/env';
import { ArtifactStore } from '../artifacts/store';
import type { DatabaseHandle, Db } from '../db/client';
import type { ServingConfig } from '../platform/config';
import { sealPlaintextWebhookSecrets } from '../db/queries/webhooks';
import { EMPTY_ALLOW_LIST, systemResolver, type WebhookAllowList } from '../platform/webhook-targets';
import type { Logger } from '../platform/logger';
import { initTfBackend } from '../ml/tf-backend';
import { ServingMetrics } from '../serving/metrics';
import { Predictor } from '../serving/predictor';
import { createCpuWorker, createGpuWorker } from '../workers/create-workers';
import { FACTORY_SEARCH_ATTRIBUTES, trainingProgressSignal, type ActivityTimeouts, type TaskQueues, type TrainingProgress } from '../workflows/contracts';
import { codeVersion } from '../platform/code-version';
import { ensureKeywordSearchAttributes } from '../platform/temporal-search-attributes';
import { ensureArtifactGcSchedule } from './artifact-gc-schedule';
import { serveApi } from './serve-api';

export interface FactoryOptions {
  db: Db;
  artifactRoot: string;
  temporalAddress: string;
  namespace: string;
  taskQueues: TaskQueues;
  logger: Logger;
  parts: { api?: boolean; cpuWorker?: boolean; gpuWorker?: boolean };
  /** Listen for HTTP on this port; omit to use `app.request()` only (tests). */
  port?: number;
  maxUploadBytes: number;
  temporalUiUrl?: string;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Milliseconds in-flight activities may finish after shutdown before they are cancelled (and retried elsewhere). */
  shutdownGraceTimeMs?: number;
  /** Heartbeat timeout the API puts in the workflows it starts (FACTORY_HEARTBEAT_TIMEOUT_SECONDS). */
  activityTimeouts?: ActivityTimeouts;
  /** FACTORY_METRICS_TOKEN: a bearer token /metrics accepts (it also takes an admin key of the installation's project). */
  metricsToken?: string;
  /** FACTORY_SECRET_KEY (or the key `npm start` keeps in FACTORY_HOME): seals webhook secrets at rest. */
  secretKey?: Buffer;
  /** FACTORY_WEBHOOK_ALLOW_HOSTS: internal hosts webhooks may reach; default none. */
  webhookAllowList?: WebhookAllowList;
  /** Create (or update) the Temporal Schedule that collects unreferenced artifacts; omit in processes that should not. */
  artifactGc?: { scheduleId: string; intervalHours: number; graceMs: number };
  /** The data plane's knobs (platform/config.ts defaults when omitted). */
  serving?: ServingConfig;
  /** The database handle's LISTEN, so the routing table hears traffic changes at once (else it polls only). */
  listen?: DatabaseHandle['listen'];
  /** The database handle's COPY (PGlite has one), which the prediction log prefers to INSERT. */
  copyIn?: DatabaseHandle['copyIn'];
}

export interface Factory {
  app: Hono<ApiEnv>;
  client: Client;
  artifacts: ArtifactStore;
  server: ServerType | undefined;
  /** The inference data plane: routing table, sessions, batching, prediction log. */
  predictor: Predictor;
  metrics: ServingMetrics;
  /** Graceful: stops taking requests, lets those in flight finish, flushes the prediction log, then stops the workers. */
  stop(): Promise<void>;
}

/** Wires the API and the workers to one database, artifact store and Temporal cluster. */
export async function startFactory(opts: FactoryOptions): Promise<Factory> {
  const { logger } = opts;
  const artifacts = new ArtifactStore(opts.artifactRoot);
  const connection = await Connection.connect({ address: opts.temporalAddress });
  const client = new Client({ connection, namespace: opts.namespace });
  // The API starts workflows with these attributes: fail at start-up with how to fix it, not on the first request.
  if (opts.parts.api) await ensureKeywordSearchAttributes(connection, opts.namespace, FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name));

  const webhookTargets = { allow: opts.webhookAllowList ?? EMPTY_ALLOW_LIST, resolve: systemResolver };
  // Rows written before secrets were encrypted: hand-written SQL cannot encrypt, so the API seals them at start-up.
  if (opts.parts.api && opts.secretKey) {
    const sealed = await sealPlaintextWebhookSecrets(opts.db, opts.secretKey);
    if (sealed > 0) logger.info({ sealed }, 'sealed webhook secrets stored before encryption');
  }
  const deps: ActivityDeps = {
    db: opts.db,
    secretKey: opts.secretKey,
    webhookTargets,
    temporal: client,
    artifacts,
    preferGpu: false,
    codeVersion: codeVersion(),
    activityTimeouts: opts.activityTimeouts,
    reportProgress: async (workflowId: string, progress: TrainingProgress) => {
      try {
        await client.workflow.getHandle(workflowId).signal(trainingProgressSignal, progress);
      } catch (err) {
        logger.debug({ err, workflowId }, 'progress signal not delivered');
      }
    },
  };

  const workers: Worker[] = [];
  let nativeConnection: NativeConnection | undefined;
  if (opts.parts.cpuWorker || opts.parts.gpuWorker) {
    nativeConnection = await NativeConnection.connect({ address: opts.temporalAddress });
    const ctx = { connection: nativeConnection, namespace: opts.namespace, deps, taskQueues: opts.taskQueues, workflowBundle: opts.workflowBundle, shutdownGraceTimeMs: opts.shutdownGraceTimeMs };
    if (opts.parts.cpuWorker) workers.push(await createCpuWorker(ctx));
    if (opts.parts.gpuWorker) {
      workers.push(await createGpuWorker(ctx));
      const { backend, binding } = await initTfBackend({ preferGpu: true });
      logger.info(
        { taskQueue: opts.taskQueues.gpu, backend, binding },
        binding === 'tfjs-node-gpu' ? 'GPU worker trains on CUDA via tfjs-node-gpu' : `GPU worker has no GPU binding (@tensorflow/tfjs-node-gpu not installed): training runs on ${backend}`,
      );
    }
  }
  const running = workers.map((w) =>
    w.run().catch((err: unknown) => {
      logger.fatal({ err }, 'worker stopped with an error');
      throw err;
    }),
  );

  if (opts.artifactGc) {
    await ensureArtifactGcSchedule(client, { scheduleId: opts.artifactGc.scheduleId, every: `${opts.artifactGc.intervalHours} hours`, graceMs: opts.artifactGc.graceMs, taskQueue: opts.taskQueues.cpu });
  }

  const metrics = new ServingMetrics();
  let draining = false;
  const predictor = new Predictor({ db: opts.db, artifacts, logger, metrics, config: opts.serving, listen: opts.listen, copyIn: opts.copyIn });
  if (opts.parts.api) await predictor.start();
  const app = createApp({
    db: opts.db,
    temporal: client,
    artifacts,
    predictor,
    apiKeyCacheTtlMs: opts.serving?.apiKeyCacheTtlMs,
    metrics,
    metricsToken: opts.metricsToken,
    secretKey: opts.secretKey,
    webhookTargets,
    draining: () => draining,
    logger,
    taskQueues: opts.taskQueues,
    maxUploadBytes: opts.maxUploadBytes,
    temporalUiUrl: opts.temporalUiUrl,
    temporalNamespace: opts.namespace,
    activityTimeouts: opts.activityTimeouts,
    artifactGraceMs: opts.artifactGc?.graceMs,
  });
  const server = opts.parts.api && opts.port !== undefined ? await serveApi(app, { port: opts.port, hostname: '0.0.0.0' }) : undefined;

  let stopped: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    draining = true;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    // After the server: every request it answered had its rows committed; this flushes shadow copies and releases sessions.
    await predictor.stop();
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await nativeConnection?.close();
    await connection.close();
  };
  return {
    app,
    client,
    artifacts,
    server,
    predictor,
    metrics,
    stop: () => (stopped ??= stopAll()),
  };
}
