import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { endpoints, modelVersions, predictions, type ModelInputSchema, type ModelOutputSchema } from '../db/schema';
import { newId } from '../platform/ids';
import type { PredictionLogWriter } from '../serving/prediction-log';
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
 * trained by the factory's own pipeline on 30 synthetic features. Load comes from wrk when it is installed
 * (as the issue measured), else from autocannon in a child process; either way the client does not share the
 * server's event loop. Ceilings are measured in the same run: an echo that also logs its row (what the
 * prediction log alone costs), and routes that only read the 100-record body, as JSON or as raw float32 bytes
 * (what HTTP alone allows, whatever the model and log cost).
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

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

/** wrk's version when it is on PATH: a C client takes far less of the two cores than autocannon, so the server is what gets measured. */
function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /wrk (\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? 'unknown';
}

const WRK = wrkVersion();

/** The load generator used for every run of this bench (printed with the figures). */
export const LOAD_GENERATOR = WRK ? `wrk ${WRK} (1 thread)` : 'autocannon in a child process (install wrk for a client that takes less CPU)';

/** One load run: POST `body` to `url` with wrk when installed (as the issue measured), else autocannon in a child process. */
export async function load(url: string, body: string | Buffer, connections: number, durationSeconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const allHeaders = { 'content-type': typeof body === 'string' ? 'application/json' : 'application/octet-stream', ...headers };
  return WRK ? loadWithWrk(url, body, connections, durationSeconds, allHeaders) : loadWithAutocannon(url, body, connections, durationSeconds, allHeaders);
}

async function loadWithAutocannon(url: string, body: string | Buffer, connections: number, durationSeconds: number, headers: Record<string, string>): Promise<LoadResult> {
  const script = `
    const autocannon = require('autocannon');
    let input = '';
    process.stdin.on('data', (c) => (input += c));
    process.stdin.on('end', () => { const o = JSON.parse(input); o.body = Buffer.from(o.body, 'base64'); autocannon(o, (err, r) => {
      if (err) { console.error(err); process.exit(1); }
      process.stdout.write(JSON.stringify({ ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99, seconds: r.duration }));
    }); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '..'), stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin.end(JSON.stringify({ url, method: 'POST', body: Buffer.from(body).toString('base64'), connections, duration: durationSeconds, headers }));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as { ok: number; non2xx: number; errors: number; p50: number; p99: number; seconds: number };
  return { requestsPerSecond: r.ok / r.seconds, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors, seconds: r.seconds };
}

/** wrk prints latencies as 812.00us, 1.52ms or 1.02s. */
function wrkMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) throw new Error(`wrk printed a latency this bench cannot read: ${text}`);
  const scale = { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
  return Math.round(Number(m[1]) * scale * 100) / 100;
}

async function loadWithWrk(url: string, body: string | Buffer, connections: number, durationSeconds: number, headers: Record<string, string>): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-wrk-'));
  try {
    const bodyFile = path.join(dir, 'body');
    await writeFile(bodyFile, body);
    const lua = [
      `wrk.method = "POST"`,
      `local f = assert(io.open(${JSON.stringify(bodyFile)}, "rb")); wrk.body = f:read("*a"); f:close()`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    ].join('\n');
    await writeFile(path.join(dir, 'post.lua'), lua);
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${durationSeconds}s`, '--latency', '-s', path.join(dir, 'post.lua'), url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${out}`);
    const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
    if (!total) throw new Error(`wrk printed no request count: ${out}`);
    const seconds = Number(total[2]) * ({ ms: 0.001, s: 1, m: 60 }[total[3] as 'ms' | 's' | 'm']);
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
    return { requestsPerSecond: (Number(total[1]) - non2xx) / seconds, p50: wrkMs(/ 50%\s+(\S+)/.exec(out)?.[1]), p99: wrkMs(/ 99%\s+(\S+)/.exec(out)?.[1]), non2xx, errors, seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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

/** Serves a Hono app on a free loopback port. */
async function serveOnFreePort(app: Hono): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Plain Hono routes served by this process: `/echo`, the JSON echo the predict route is measured against;
 * `/parse`, which parses a JSON body and answers `{}`; `/bytes`, which reads a raw body and answers `{}`.
 */
async function startEcho(): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = new Hono();
  app.post('/echo', async (c) => c.json(await c.req.json()));
  app.post('/parse', async (c) => {
    await c.req.json();
    return c.json({});
  });
  app.post('/bytes', async (c) => {
    await c.req.arrayBuffer();
    return c.json({});
  });
  return serveOnFreePort(app);
}

/**
 * The echo, plus one prediction-log row per request written through the factory's own writer (group commit,
 * answered after the commit): an upper bound for any predict that logs its answer, since it does nothing else.
 */
async function startLoggedEcho(log: PredictionLogWriter, endpointId: string, modelVersionId: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = new Hono();
  app.post('/echo', async (c) => {
    const body = await c.req.json<{ records: Record<string, unknown>[] }>();
    await log.write([
      { id: newId('pred'), endpointId, modelVersionId, route: 'stable', requestId: newId('req'), inputs: body.records[0] ?? {}, outputs: { label: 'yes', probability: 0.7, probabilities: { no: 0.3, yes: 0.7 } }, latencyMs: 0.1, error: null },
    ]);
    return c.json(body);
  });
  return serveOnFreePort(app);
}

interface Stack {
  predictUrl: string;
  factory: Factory;
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
  return { predictUrl: `http://127.0.0.1:${port}/v1/endpoints/${ENDPOINT}/predict`, factory, stop: () => factory.stop() };
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
  const out: string[][] = [['serve HTTP: load generator', LOAD_GENERATOR]];
  try {
    // On disk under a home directory, as `npm start` runs it: an in-memory PGlite grows its files by copying them.
    const pglite = await openDatabase({ pgliteDir: path.join(home, 'pglite') });
    try {
      out.push(...(await benchOnDatabase('PGlite', pglite, { home, temporalAddress: devServer.address, logger, opts, echoUrl: `${echo.url}/echo`, full: true })));
    } finally {
      await pglite.close();
    }
    if (opts.postgresUrl) {
      const fresh = await createFreshDatabase(opts.postgresUrl, 'bench_serving');
      const pg = await openDatabase({ url: fresh.url });
      try {
        out.push(...(await benchOnDatabase('PostgreSQL', pg, { home, temporalAddress: devServer.address, logger, opts, echoUrl: `${echo.url}/echo`, full: false })));
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
    // As main.ts wires them: PGlite's COPY for the log, LISTEN/NOTIFY for routing changes.
    copyIn: database.copyIn,
    listen: database.listen,
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
    const served = await servedVersion(database);
    const loggedEcho = await startLoggedEcho(stack.factory.predictor.log, served.endpointId, served.versionId);
    try {
      await load(`${loggedEcho.url}/echo`, single, 1, 1);
      const echoLogged = await load(`${loggedEcho.url}/echo`, single, 32, durationSeconds);
      await settle(database);
      out.push([`serve HTTP ${label}: ceiling: echo + its prediction-log row, 32 conn, req/s`, `${fmt(echoLogged.requestsPerSecond)} (${ms(echoLogged)})`]);
      out.push([`serve HTTP ${label}: ceiling / echo ratio (no predict that logs can pass it)`, `${(echoLogged.requestsPerSecond / echoed.requestsPerSecond).toFixed(3)}x`]);
    } finally {
      await loggedEcho.stop();
    }
    if (!ctx.full) return out;

    // (b) 100 records per request against onnxruntime alone on the same model and rows.
    const hundredRecords = (JSON.parse(hundred) as { records: Record<string, unknown>[] }).records;
    const rawRowsPerSecond = await rawOnnxRowsPerSecond(served, base.artifactRoot, hundredRecords);
    const beforeHundred = await predictionRows(database);
    const batched = await load(stack.predictUrl, hundred, 32, durationSeconds, auth);
    const loggedHundred = (await predictionRows(database)) - beforeHundred;
    await settle(database);
    out.push([`serve HTTP ${label}: predict 100 records, 32 conn, rows/s`, `${fmt(batched.requestsPerSecond * 100)} (${ms(batched)})`]);
    out.push([`serve raw onnxruntime in-process, 100-row batches, rows/s`, fmt(rawRowsPerSecond)]);
    out.push([`serve HTTP ${label}: 100-record rows/s / raw onnxruntime (target >= 0.5)`, `${((batched.requestsPerSecond * 100) / rawRowsPerSecond).toFixed(3)}x`]);
    out.push([`serve JSON.parse alone of the 100-record body, rows/s (a ceiling for HTTP)`, fmt(jsonParseRowsPerSecond(hundred))]);
    // What HTTP alone allows at 100 records a request: a route that only reads the body and answers {}.
    const floats = Buffer.from(recordsToMatrix(hundredRecords, FEATURES).buffer);
    for (const [name, route, body] of [
      ['the 100-record JSON body parsed', 'parse', hundred],
      [`the 100 records as ${floats.length} bytes of float32`, 'bytes', floats],
    ] as const) {
      const r = await load(`${ctx.echoUrl.replace(/\/echo$/, '')}/${route}`, body, 32, durationSeconds);
      out.push([`serve HTTP: ceiling: ${name}, answered {}, rows/s`, `${fmt(r.requestsPerSecond * 100)} = ${((r.requestsPerSecond * 100) / rawRowsPerSecond).toFixed(3)}x raw onnxruntime (${ms(r)})`]);
    }
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

interface BenchServedVersion {
  endpointId: string;
  versionId: string;
  onnxUri: string;
  inputSchema: ModelInputSchema;
  outputSchema: ModelOutputSchema;
}

/** The bench endpoint and the version it serves. */
async function servedVersion(database: DatabaseHandle): Promise<BenchServedVersion> {
  const [row] = await database.db
    .select({ endpointId: endpoints.id, versionId: modelVersions.id, onnxUri: modelVersions.onnxUri, inputSchema: modelVersions.inputSchema, outputSchema: modelVersions.outputSchema })
    .from(endpoints)
    .innerJoin(modelVersions, eq(modelVersions.id, endpoints.stableVersionId))
    .where(eq(endpoints.name, ENDPOINT));
  if (!row) throw new Error('the bench endpoint has no stable version');
  return row;
}

/** Rows per second onnxruntime-node gives on the deployed model, 100-row batches, one after another. */
async function rawOnnxRowsPerSecond(served: BenchServedVersion, artifactRoot: string, records: Record<string, unknown>[]): Promise<number> {
  const session = await loadOnnxSession(await new ArtifactStore(artifactRoot).get(served.onnxUri));
  const features = served.inputSchema.features;
  const x = recordsToMatrix(records, features);
  let rows = 0;
  const started = performance.now();
  while (performance.now() - started < 3_000) {
    await runOnnxModel(session, x, records.length, features.length, served.outputSchema.name);
    rows += records.length;
  }
  await session.release();
  return rows / ((performance.now() - started) / 1000);
}
