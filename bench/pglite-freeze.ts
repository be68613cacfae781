import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { eq, sql } from 'drizzle-orm';
import { ArtifactStore } from '../artifacts/store';
import { openDatabase, type Db } from '../db/client';
import { driftWindowQueryFor, readDriftWindow } from '../db/queries/drift-window';
import { versionsServedIn } from '../db/queries/monitoring';
import { bootstrapProject } from '../db/queries/projects';
import { modelVersions } from '../db/schema';
import type { DriftBaseline } from '../domain/drift-baseline';
import { startFactory } from '../factory/start-factory';
import { PROBABILITY_EDGES } from '../ml/drift-baseline';
import { DEFAULT_SERVING_CONFIG } from '../platform/config';
import { createLogger } from '../platform/logger';
import { findOrBuildTemporalCli } from '../platform/temporal-cli';
import { startDevServer } from '../platform/temporal-dev-server';
import { installTemporalLogger } from '../platform/temporal-logger';
import { FACTORY_SEARCH_ATTRIBUTES } from '../workflows/contracts';
import { classifierOnnx, registerOnnxVersion, setEndpointTraffic } from '../test/support/serving-fixtures';
import { LOAD_GENERATOR, load, type LoadResult } from './serving';

/**
 * Does a drift scan freeze predictions on PGlite? Fills a PGlite data directory with `rows` prediction-log
 * rows (one hour of a 5-feature classifier's traffic, generate_series), then, for PGlite on the API's own
 * thread (how `npm start` ran it before) and PGlite in its own process (how it runs now), serves the
 * endpoint and measures single-record predict latency idle and while the monitor's drift scan (its real
 * queries: the versions that served, the drift aggregates) runs over that window again and again.
 * `npm run bench -- --pglite-freeze[=<rows>]`, or `npx tsx bench/pglite-freeze.ts [--rows=1000000] [--duration=10]`.
 */
const ADMIN_KEY = `afk_bench_freeze_${'k'.repeat(32)}`;
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4'];
const CHUNK = 100_000;
const CONNECTIONS = 8;

export async function benchPgliteFreeze(opts: { rows: number; durationSeconds: number }): Promise<string[][]> {
  const logger = createLogger('error');
  installTemporalLogger(logger);
  const home = await mkdtemp(path.join(os.tmpdir(), 'bench-pglite-freeze-'));
  const pgliteDir = path.join(home, 'pglite');
  const artifacts = new ArtifactStore(path.join(home, 'artifacts'));
  const devServer = await startDevServer({
    cliPath: await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, (line) => console.error(line)),
    namespace: 'default',
    keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name),
  });
  const out: string[][] = [['pglite freeze: load generator', `${LOAD_GENERATOR}, ${CONNECTIONS} connections, ${opts.durationSeconds} s per run`]];
  try {
    const fillStarted = performance.now();
    const window = await fill(pgliteDir, artifacts, opts.rows);
    out.push(['pglite freeze: prediction-log rows in the scanned window', `${opts.rows.toLocaleString('en')} (filled in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s)`]);

    for (const mode of [
      { label: 'PGlite on the API thread (before)', inThread: true },
      { label: 'PGlite in its own process (now)', inThread: false },
    ]) {
      const database = await openDatabase({ pgliteDir, inThread: mode.inThread });
      const factory = await startFactory({
        db: database.db,
        artifactRoot: artifacts.root,
        temporalAddress: devServer.address,
        namespace: 'default',
        taskQueues: { cpu: 'bench-freeze-cpu', gpu: 'bench-freeze-gpu' },
        logger,
        parts: { api: true },
        port: 0,
        maxUploadBytes: 1024 * 1024,
        serving: DEFAULT_SERVING_CONFIG,
        listen: database.listen,
        copyIn: database.copyIn,
      });
      try {
        const { port } = factory.server?.address() as AddressInfo;
        const predict = (seconds: number): Promise<LoadResult> =>
          load(`http://127.0.0.1:${port}/v1/endpoints/freeze/predict`, JSON.stringify({ records: [Object.fromEntries(FEATURES.map((f) => [f, 42]))] }), CONNECTIONS, seconds, {
            authorization: `Bearer ${ADMIN_KEY}`,
          });
        await predict(2);
        const idle = await predict(opts.durationSeconds);
        const scans = scanLoop(database.db, window);
        const during = await predict(opts.durationSeconds);
        const scanMs = await scans.stop();
        out.push([`${mode.label}: drift scan, s each`, `${scanMs.map((t) => (t / 1000).toFixed(1)).join(', ')}`]);
        out.push([`${mode.label}: predict idle`, figures(idle)]);
        out.push([`${mode.label}: predict during the scan`, figures(during)]);
      } finally {
        await factory.stop();
        await database.close();
      }
    }
  } finally {
    await devServer.stop();
    await rm(home, { recursive: true, force: true });
  }
  return out;
}

interface ScanWindow {
  endpointId: string;
  modelVersionId: string;
  baseline: DriftBaseline;
  from: Date;
  to: Date;
}

/** The monitor's scan, back to back until stopped; resolves with each scan's milliseconds. */
function scanLoop(db: Db, w: ScanWindow): { stop: () => Promise<number[]> } {
  let running = true;
  const times: number[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await versionsServedIn(db, w.endpointId, w.from, w.to);
      await readDriftWindow(db, driftWindowQueryFor(w.baseline, { endpointId: w.endpointId, versionId: w.modelVersionId, from: w.from, to: w.to }));
      times.push(performance.now() - started);
      // PGlite on this thread answers through microtasks only: without a turn of the event loop between scans, nothing else would ever run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return times;
    },
  };
}

/** A project, a deployed 5-feature classifier with a drift baseline, and `rows` logged predictions in one hour (in PGlite's own process: the fill is not what is measured). */
async function fill(pgliteDir: string, artifacts: ArtifactStore, rows: number): Promise<ScanWindow> {
  const database = await openDatabase({ pgliteDir });
  try {
    await database.migrate();
    const db = database.db;
    const { projectId } = await bootstrapProject(db, { projectName: 'bench-freeze', adminKey: ADMIN_KEY });
    const { onnx, features } = classifierOnnx(0.1, FEATURES.length);
    const version = await registerOnnxVersion(db, artifacts, { projectId, model: 'freeze', onnx, features });
    const baseline: DriftBaseline = {
      bins: 10,
      features: FEATURES.map((feature) => ({ feature, edges: [10, 20, 30, 40, 50, 60, 70, 80, 90], counts: new Array<number>(10).fill(1000), rows: 10_000, min: 0, max: 100, mean: 50, std: 28.87 })),
      prediction: { task: 'classification', classes: ['no', 'yes'], labelCounts: [5000, 5000], probabilityEdges: PROBABILITY_EDGES, probabilityCounts: [0, 0, 0, 0, 0, 2000, 2000, 2000, 2000, 2000] },
    };
    const [row] = await db.select({ evaluation: modelVersions.evaluation }).from(modelVersions).where(eq(modelVersions.id, version.id));
    if (!row) throw new Error('the bench model version was not written');
    await db.update(modelVersions).set({ evaluation: { ...row.evaluation, baseline } }).where(eq(modelVersions.id, version.id));
    const endpointId = await setEndpointTraffic(db, { projectId, endpoint: 'freeze', stable: version.id });
    const from = new Date('2026-03-01T00:00:00Z');
    const to = new Date(from.getTime() + 3600_000);
    const inputs = sql.raw(`jsonb_build_object(${FEATURES.map((f) => `'${f}', round((random() * 100)::numeric, 2)`).join(', ')})`);
    for (let start = 0; start < rows; start += CHUNK) {
      const n = Math.min(CHUNK, rows - start);
      await db.execute(sql`
        insert into predictions (id, endpoint_id, model_version_id, inputs, outputs, latency_ms, route, created_at)
        select 'pred_' || (${start}::bigint + g), ${endpointId}, ${version.id}, ${inputs},
          jsonb_build_object('label', case when p >= 0.5 then 'yes' else 'no' end, 'probability', p, 'probabilities', jsonb_build_object('no', 1 - p, 'yes', p)),
          1, 'stable', ${from.toISOString()}::timestamptz + ((${start}::bigint + g - 1) * 3600.0 / ${rows}) * interval '1 second'
        from generate_series(1, ${n}) as g, lateral (select round(random()::numeric, 4)::float8 + 0 * g as p) as r`);
      process.stderr.write(`  filled ${(start + n).toLocaleString('en')} rows\r`);
    }
    await db.execute(sql`analyze predictions`);
    return { endpointId, modelVersionId: version.id, baseline, from, to };
  } finally {
    await database.close();
  }
}

function figures(r: LoadResult): string {
  return `p50 ${r.p50} ms, p99 ${r.p99} ms, ${Math.round(r.requestsPerSecond)} req/s${r.non2xx + r.errors > 0 ? `, ${r.non2xx} non-2xx, ${r.errors} errors/timeouts` : ''}`;
}

if (require.main === module) {
  const value = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  benchPgliteFreeze({ rows: Number(value('rows') ?? 1_000_000), durationSeconds: Number(value('duration') ?? 10) })
    .then((rows) => {
      const width = Math.max(...rows.map((r) => (r[0] ?? '').length));
      for (const [name, v] of rows) console.log(`${(name ?? '').padEnd(width)}  ${v}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
