import { performance } from 'node:perf_hooks';
import { eq, sql } from 'drizzle-orm';
import { openDatabase } from '../db/client';
import { createFreshDatabase } from './fresh-database';
import { driftWindowQueryFor, readDriftWindow } from '../db/queries/drift-window';
import { versionsServedIn } from '../db/queries/monitoring';
import { bootstrapProject } from '../db/queries/projects';
import { modelVersions } from '../db/schema';
import type { DriftBaseline } from '../domain/drift-baseline';
import { DEFAULT_MONITORING_THRESHOLDS } from '../domain/monitoring';
import { PROBABILITY_EDGES } from '../ml/drift-baseline';
import { buildVersionDriftReport } from '../ml/drift-report';
import { insertEndpoint, insertModelVersion } from '../test/support/candidate-models';

/**
 * `npx tsx bench/monitor.ts [--rows=1000000] [--10m] [--features=10] [--keep]` with DATABASE_URL (or
 * --postgres=<server url>) pointing at a PostgreSQL server: creates a fresh database there, fills the
 * prediction log with generate_series (one hour of a classifier's traffic, a tenth of it labelled, f0
 * shifted), then times one monitor run's SQL (the versions that served, the drift aggregates) and the
 * report, and prints the Node process's RSS: only aggregates reach Node, so it stays flat as rows grow.
 */
const CHUNK = 1_000_000;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const value = (name: string) => flag(name)?.split('=')[1];
  const rows = flag('10m') ? 10_000_000 : Number(value('rows') ?? 1_000_000);
  const featureCount = Number(value('features') ?? 10);
  const server = value('postgres') ?? process.env.DATABASE_URL;
  if (!server) throw new Error('set DATABASE_URL or --postgres=postgres://… (a server where a fresh database can be created)');

  const fresh = await createFreshDatabase(server, 'bench_monitor');
  const database = await openDatabase({ url: fresh.url });
  try {
    await database.migrate();
    const db = database.db;
    const { projectId } = await bootstrapProject(db, { projectName: 'bench-monitor' });
    const features = Array.from({ length: featureCount }, (_, j) => `f${j}`);
    const { modelVersionId } = await insertModelVersion(db, { projectId, model: 'bench-monitor', features });
    // Training deciles of uniform(0, 100) for every feature.
    const baseline: DriftBaseline = {
      bins: 10,
      features: features.map((feature) => ({ feature, edges: [10, 20, 30, 40, 50, 60, 70, 80, 90], counts: new Array<number>(10).fill(1000), rows: 10_000, min: 0, max: 100, mean: 50, std: 28.87 })),
      prediction: { task: 'classification', classes: ['no', 'yes'], labelCounts: [5000, 5000], probabilityEdges: PROBABILITY_EDGES, probabilityCounts: [0, 0, 0, 0, 0, 2000, 2000, 2000, 2000, 2000] },
    };
    const [row] = await db.select({ evaluation: modelVersions.evaluation }).from(modelVersions).where(eq(modelVersions.id, modelVersionId));
    await db.update(modelVersions).set({ evaluation: { ...row!.evaluation, baseline } }).where(eq(modelVersions.id, modelVersionId));
    const endpointId = await insertEndpoint(db, { projectId, name: 'bench-monitor', stableVersionId: modelVersionId });
    const from = new Date('2026-03-01T00:00:00Z');
    const to = new Date(from.getTime() + 3600_000);

    const inputs = sql.raw(`jsonb_build_object(${features.map((f, j) => `'${f}', ${j === 0 ? 'round((random() * 100 + 30)::numeric, 2)' : 'round((random() * 100)::numeric, 2)'}`).join(', ')})`);
    const fillStarted = performance.now();
    for (let start = 0; start < rows; start += CHUNK) {
      const n = Math.min(CHUNK, rows - start);
      await db.execute(sql`
        insert into predictions (id, endpoint_id, model_version_id, inputs, outputs, latency_ms, route, created_at)
        select 'pred_' || (${start}::bigint + g), ${endpointId}, ${modelVersionId}, ${inputs},
          jsonb_build_object('label', case when p >= 0.5 then 'yes' else 'no' end, 'probability', p, 'probabilities', jsonb_build_object('no', 1 - p, 'yes', p)),
          1, case when g % 10 = 0 then 'canary' else 'stable' end,
          ${from.toISOString()}::timestamptz + ((${start}::bigint + g - 1) * 3600.0 / ${rows}) * interval '1 second'
        from generate_series(1, ${n}) as g, lateral (select round(random()::numeric, 4)::float8 + 0 * g as p) as r`);
      await db.execute(sql`
        insert into feedback_labels (prediction_id, label)
        select 'pred_' || (${start}::bigint + g), to_jsonb(case when random() < 0.8 then 'yes' else 'no' end)
        from generate_series(1, ${n}) as g where g % 10 = 3`);
      process.stdout.write(`  filled ${start + n} rows\r`);
    }
    await db.execute(sql`analyze predictions`);
    await db.execute(sql`analyze feedback_labels`);
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    const sized = await db.execute(sql`select pg_size_pretty(pg_database_size(current_database())) as size`);
    const [size] = (sized as { rows: { size: string }[] }).rows;

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const t0 = performance.now();
    const served = await versionsServedIn(db, endpointId, from, to);
    const t1 = performance.now();
    const counts = await readDriftWindow(db, driftWindowQueryFor(baseline, { endpointId, versionId: modelVersionId, from, to }));
    const t2 = performance.now();
    const report = buildVersionDriftReport({ modelVersionId, model: { name: 'bench-monitor', version: 1 }, window: { from: from.toISOString(), to: to.toISOString() }, baseline, counts, thresholds: DEFAULT_MONITORING_THRESHOLDS });
    const t3 = performance.now();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
    const figures: [string, string][] = [
      ['rows in the window (stable+canary, 10 % labelled)', `${counts.rows.toLocaleString('en')} (${featureCount} features; database ${size?.size ?? '?'})`],
      ['fill with generate_series', `${fillSeconds.toFixed(1)} s`],
      ['versions that served (EXISTS probe per version)', `${((t1 - t0) / 1000).toFixed(2)} s (${served.length} version)`],
      ['drift aggregates (features, predictions, live metrics)', `${((t2 - t1) / 1000).toFixed(2)} s`],
      ['report from the aggregates', `${(t3 - t2).toFixed(1)} ms`],
      ['Node RSS before → peak during the monitor', `${mb(rssBefore)} → ${mb(peak)} (process max RSS ${mb(process.resourceUsage().maxRSS * 1024)})`],
      ['drifted', `${report.drifted}: ${report.reasons.join('; ')}`],
      ['live', `accuracy ${report.live.accuracy?.toFixed(4)} on ${report.live.labelled.toLocaleString('en')} labels, ROC-AUC ${report.live.rocAuc?.toFixed(4)}`],
    ];
    const width = Math.max(...figures.map(([n]) => n.length));
    console.log(`\nmonitor bench on PostgreSQL, ${rows.toLocaleString('en')} rows`);
    for (const [n, v] of figures) console.log(`${n.padEnd(width)}  ${v}`);
  } finally {
    await database.close();
    if (!flag('keep')) await fresh.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
