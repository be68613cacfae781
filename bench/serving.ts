import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { count, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import seedrandom from 'seedrandom';
import { createFreshDatabase } from './fresh-database';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { bootstrapProject } from '../db/queries/projects';
import { endpoints, modelVersions, predictions } from '../db/schema';
import { startFactory, type Factory, type FactoryOptions } from '../factory/start-factory';
import { createLogger } from '../platform/logger';
import { installTemporalLogger } from '../platform/temporal-logger';
import { findOrBuildTemporalCli } from '../platform/temporal-cli';
import { startDevServer } from '../platform/temporal-dev-server';
import { ArtifactStore } from '../artifacts/store';
import { DEFAULT_SERVING_CONFIG, type ServingConfig } from '../platform/config';
import { loadOnnxSession, runOnnxModel } from '../serving/onnx-session';
import { recordsToMatrix } from '../serving/validate-records';
import { FACTORY_SEARCH_ATTRIBUTES } from '../workflows/contracts';

/**
 * The inference server over HTTP, as a client sees it: single-record predicts at 32 connections against a
 * plain Hono JSON echo in the same process and run; 100-record requests against raw onnxruntime; dynamic
 * batching on and off at 1, 32 and 128 connections; prediction-log rows written per second. The model is
 * trained by the factory's own pipeline on 30 synthetic features. Load comes from autocannon in a child
 * process, so the client does not share the server's event loop.
 */

const FEATURES = Array.from({ length: 30 }, (_, j) => `f${j}`);
const ADMIN_KEY = `afk_bench_serving_${'k'.repeat(32)}`;
const ENDPOINT = 'bench';

export interface ServingBenchOptions {
  /** Seconds per autocannon run (10 unless --duration=). */
  durationSeconds: number;
  /** A PostgreSQL server to run the single-record figures on as well; a fresh database is created there. */
  postgresUrl?: string;
}

interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

/** One autocannon run from a child process: POST `body` to `url`. */
async function load(url: string, body: string, connections: number, durationSeconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const script = `
    const autocannon = require('autocannon');
    let input = '';
    process.stdin.on('data', (c) => (input += c));
    process.stdin.on('end', () => autocannon(JSON.parse(input), (err, r) => {
      if (err) { console.error(err); process.exit(1); }
      process.stdout.write(JSON.stringify({ ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99, seconds: r.duration }));
    }));`;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin.end(JSON.stringify({ url, method: 'POST', body, connections, duration: durationSeconds, headers: { 'content-type': 'application/json', ...headers } }));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as { ok: number; non2xx: number; errors: number; p50: number; p99: number; seconds: number };
  return { requestsPerSecond: r.ok / r.seconds, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors, seconds: r.seconds };
}

function record(random: () => number): Record<string, number> {
  return Object.fromEntries(FEATURES.map((f) => [f, Math.round((random() * 2 - 1) * 1000) / 1000]));
}

function trainingCsv(n: number): string {
  const random = seedrandom('bench-serving');
  const weights = FEATURES.map((_, j) => (j % 3 === 0 ? 1 : j % 3 === 1 ? -0.5 : 0.1));
  const lines = [[...FEATURES, 'churned'].join(',')];
  for (let i = 0; i < n; i++) {
    const r = record(random);
    const score = FEATURES.reduce((s, f, j) => s + (r[f] ?? 0) * (weights[j] ?? 0), 0);
    lines.push([...FEATURES.map((f) => r[f]), score > 0 ? 'yes' : 'no'].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Uploads the synthetic table and runs the pipeline that trains, evaluates and deploys to the bench endpoint. */
async function trainBenchModel(factory: Factory): Promise<void> {
  const call = async (method: string, url: string, body?: string, contentType = 'application/json') => {
    const res = await factory.app.request(url, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': contentType }, body });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await call('POST', '/v1/datasets/bench/versions?wait=true', trainingCsv(4000), 'text/csv');
  const { workflowId } = (await call('POST', '/v1/pipelines', JSON.stringify({ dataset: 'bench', target: 'churned', model: { type: 'logistic', epochs: 5, batchSize: 64 }, endpoint: ENDPOINT }))) as {
    workflowId: string;
  };
  for (;;) {
    const status = await call('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`);
    if (status.status === 'COMPLETED') return;
    if (status.status !== 'RUNNING') throw new Error(`the bench pipeline ended ${String(status.status)}: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A JSON echo on plain Hono, served by this process: the ceiling the predict route is measured against. */
async function startEcho(): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = new Hono();
  app.post('/echo', async (c) => c.json(await c.req.json()));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/echo`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface Stack {
  predictUrl: string;
  stop: () => Promise<void>;
}

/**
 * An API-only factory on a free port with dynamic batching on or off. The switch goes in as configuration:
 * startFactory does not read FACTORY_BATCHING (loadConfig does), so an environment variable here changed nothing.
 */
async function startServingStack(base: Omit<FactoryOptions, 'parts' | 'port'>, batching: boolean): Promise<Stack> {
  const serving: ServingConfig = { ...DEFAULT_SERVING_CONFIG, batching: { ...DEFAULT_SERVING_CONFIG.batching, enabled: batching } };
  const factory = await startFactory({ ...base, serving, parts: { api: true }, port: 0 });
  const { port } = factory.server?.address() as AddressInfo;
  return { predictUrl: `http://127.0.0.1:${port}/v1/endpoints/${ENDPOINT}/predict`, stop: () => factory.stop() };
}

async function predictionRows(db: DatabaseHandle): Promise<number> {
  const [row] = await db.db.select({ n: count() }).from(predictions);
  return row?.n ?? 0;
}

/**
 * Waits until the prediction log stops growing: autocannon hangs up at the end of a run with requests still
 * in flight, which the server finishes; the next run (or closing the database) must not overlap them.
 */
async function settle(db: DatabaseHandle): Promise<void> {
  let last = -1;
  for (let rows = await predictionRows(db); rows !== last; rows = await predictionRows(db)) {
    last = rows;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const ms = (r: LoadResult) => `p50 ${r.p50} ms, p99 ${r.p99} ms${r.non2xx + r.errors > 0 ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ''}`;

export async function benchServingHttp(opts: ServingBenchOptions): Promise<string[][]> {
  const logger = createLogger('error');
  installTemporalLogger(logger);
  const home = await mkdtemp(path.join(os.tmpdir(), 'bench-serving-'));
  const devServer = await startDevServer({
    cliPath: await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, (line) => console.error(line)),
    namespace: 'default',
    keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name),
  });
  const echo = await startEcho();
  const out: string[][] = [];
  try {
    const pglite = await openDatabase({ inMemory: true });
    try {
      out.push(...(await benchOnDatabase('PGlite', pglite, { home, temporalAddress: devServer.address, logger, opts, echoUrl: echo.url, full: true })));
    } finally {
      await pglite.close();
    }
    if (opts.postgresUrl) {
      const fresh = await createFreshDatabase(opts.postgresUrl, 'bench_serving');
      const pg = await openDatabase({ url: fresh.url });
      try {
        out.push(...(await benchOnDatabase('PostgreSQL', pg, { home, temporalAddress: devServer.address, logger, opts, echoUrl: echo.url, full: false })));
      } finally {
        await pg.close();
        await fresh.drop();
      }
    } else {
      out.push(['serving HTTP on PostgreSQL', 'skipped: set DATABASE_URL or pass --postgres=<url>']);
    }
  } finally {
    await echo.stop();
    await devServer.stop();
    await rm(home, { recursive: true, force: true });
  }
  return out;
}

async function benchOnDatabase(
  label: string,
  database: DatabaseHandle,
  ctx: { home: string; temporalAddress: string; logger: ReturnType<typeof createLogger>; opts: ServingBenchOptions; echoUrl: string; full: boolean },
): Promise<string[][]> {
  const { durationSeconds } = ctx.opts;
  await database.migrate();
  await bootstrapProject(database.db, { projectName: 'bench', adminKey: ADMIN_KEY });
  const base: Omit<FactoryOptions, 'parts' | 'port'> = {
    db: database.db,
    artifactRoot: path.join(ctx.home, 'artifacts'),
    temporalAddress: ctx.temporalAddress,
    namespace: 'default',
    taskQueues: { cpu: `bench-cpu-${label}`, gpu: `bench-gpu-${label}` },
    logger: ctx.logger,
    maxUploadBytes: 64 * 1024 * 1024,
  };
  // Train with workers, then stop them so they take no CPU from the measured server.
  const trainer = await startFactory({ ...base, parts: { api: true, cpuWorker: true, gpuWorker: true } });
  try {
    await trainBenchModel(trainer);
  } finally {
    await trainer.stop();
  }

  const random = seedrandom('bench-serving-requests');
  const single = JSON.stringify({ records: [record(random)] });
  const hundred = JSON.stringify({ records: Array.from({ length: 100 }, () => record(random)) });
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const out: string[][] = [];

  const stack = await startServingStack(base, true);
  try {
    // Warm both: the first predict loads the ONNX session.
    await load(stack.predictUrl, single, 1, 1, auth);
    await settle(database);
    await load(ctx.echoUrl, single, 1, 1);
    const echoed = await load(ctx.echoUrl, single, 32, durationSeconds);
    const before = await predictionRows(database);
    const predicted = await load(stack.predictUrl, single, 32, durationSeconds, auth);
    const logged = (await predictionRows(database)) - before;
    await settle(database);
    out.push([`serve HTTP ${label}: Hono JSON echo, 32 conn, req/s`, `${fmt(echoed.requestsPerSecond)} (${ms(echoed)})`]);
    out.push([`serve HTTP ${label}: predict 1 record x 30 features, 32 conn, req/s`, `${fmt(predicted.requestsPerSecond)} (${ms(predicted)})`]);
    out.push([`serve HTTP ${label}: predict / echo ratio (target >= 0.8)`, `${(predicted.requestsPerSecond / echoed.requestsPerSecond).toFixed(3)}x`]);
    out.push([`serve HTTP ${label}: prediction-log rows written/s during that run`, fmt(logged / predicted.seconds)]);
    if (!ctx.full) return out;

    // (b) 100 records per request against onnxruntime alone on the same model and rows.
    const rawRowsPerSecond = await rawOnnxRowsPerSecond(database, base.artifactRoot, JSON.parse(hundred) as { records: Record<string, unknown>[] });
    const beforeHundred = await predictionRows(database);
    const batched = await load(stack.predictUrl, hundred, 32, durationSeconds, auth);
    const loggedHundred = (await predictionRows(database)) - beforeHundred;
    await settle(database);
    out.push([`serve HTTP ${label}: predict 100 records, 32 conn, rows/s`, `${fmt(batched.requestsPerSecond * 100)} (${ms(batched)})`]);
    out.push([`serve raw onnxruntime in-process, 100-row batches, rows/s`, fmt(rawRowsPerSecond)]);
    out.push([`serve HTTP ${label}: 100-record rows/s / raw onnxruntime (target >= 0.5)`, `${((batched.requestsPerSecond * 100) / rawRowsPerSecond).toFixed(3)}x`]);
    out.push([`serve JSON.parse alone of the 100-record body, rows/s (a ceiling for HTTP)`, fmt(jsonParseRowsPerSecond(hundred))]);
    out.push([`serve HTTP ${label}: prediction-log rows written/s (100-record run)`, fmt(loggedHundred / batched.seconds)]);
  } finally {
    await stack.stop();
  }

  // (c) what dynamic batching buys: one record per request at 1, 32 and 128 connections.
  for (const batching of [true, false]) {
    const mode = await startServingStack(base, batching);
    try {
      await load(mode.predictUrl, single, 1, 1, auth);
      await settle(database);
      for (const connections of [1, 32, 128]) {
        const r = await load(mode.predictUrl, single, connections, durationSeconds, auth);
        await settle(database);
        out.push([`serve HTTP ${label}: batching ${batching ? 'on ' : 'off'}, ${connections} conn, req/s`, `${fmt(r.requestsPerSecond)} (${ms(r)})`]);
      }
    } finally {
      await mode.stop();
    }
  }
  return out;
}

/** Rows per second JSON.parse alone turns the body into objects: every HTTP request pays it before anything else. */
function jsonParseRowsPerSecond(body: string): number {
  const rows = (JSON.parse(body) as { records: unknown[] }).records.length;
  let parsed = 0;
  const started = performance.now();
  while (performance.now() - started < 2_000) {
    JSON.parse(body);
    parsed += rows;
  }
  return parsed / ((performance.now() - started) / 1000);
}

/** Rows per second onnxruntime-node gives on the deployed model, 100-row batches, one after another. */
async function rawOnnxRowsPerSecond(database: DatabaseHandle, artifactRoot: string, body: { records: Record<string, unknown>[] }): Promise<number> {
  const [row] = await database.db
    .select({ onnxUri: modelVersions.onnxUri, inputSchema: modelVersions.inputSchema, outputSchema: modelVersions.outputSchema })
    .from(endpoints)
    .innerJoin(modelVersions, eq(modelVersions.id, endpoints.stableVersionId))
    .where(eq(endpoints.name, ENDPOINT));
  if (!row) throw new Error('the bench endpoint has no stable version');
  const session = await loadOnnxSession(await new ArtifactStore(artifactRoot).get(row.onnxUri));
  const features = row.inputSchema.features;
  const x = recordsToMatrix(body.records, features);
  let rows = 0;
  const started = performance.now();
  while (performance.now() - started < 3_000) {
    await runOnnxModel(session, x, body.records.length, features.length, row.outputSchema.name);
    rows += body.records.length;
  }
  await session.release();
  return rows / ((performance.now() - started) / 1000);
}
