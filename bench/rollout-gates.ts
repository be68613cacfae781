import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../db/client';
import { bootstrapProject } from '../db/queries/projects';
import { readPredictionWindow } from '../db/queries/prediction-window';
import { evaluateGates } from '../ml/rollout-gates';
import { insertEndpoint, insertModelVersion } from '../test/support/candidate-models';
import { createFreshDatabase } from './fresh-database';

/**
 * `npx tsx bench/rollout-gates.ts [rows]` (DATABASE_URL: a fresh database on that PostgreSQL server, dropped
 * after; else PGlite in memory): one gate evaluation over a bake window of `rows` stable and rows/10 canary
 * predictions, read from the prediction log the way the controller's activity reads it. Reports the time and the heap growth, which stays flat with the
 * window's size because every aggregate is computed in SQL.
 */
async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 200_000);
  const server = process.env.DATABASE_URL;
  // A database of its own: the bench never writes into the one `npm start` uses.
  const fresh = server ? await createFreshDatabase(server, 'bench_gates') : undefined;
  const database = await openDatabase(fresh ? { url: fresh.url } : { inMemory: true });
  await database.migrate();
  const { projectId } = await bootstrapProject(database.db, { projectName: `bench-gates-${Date.now()}` });
  const features = ['f0', 'f1'];
  const stable = (await insertModelVersion(database.db, { projectId, model: 'bench-gates', features })).modelVersionId;
  const canary = (await insertModelVersion(database.db, { projectId, model: 'bench-gates', features })).modelVersionId;
  const endpointId = await insertEndpoint(database.db, { projectId, name: `bench-gates-${Date.now()}`, stableVersionId: stable });
  const from = new Date('2026-03-01T00:00:00Z');
  const to = new Date(from.getTime() + 3600_000);

  const fillStarted = performance.now();
  for (const [versionId, route, n, shift] of [
    [stable, 'stable', rows, 0],
    [canary, 'canary', Math.round(rows / 10), 0.05],
  ] as const) {
    // Rows generated in the database: one statement per version, no rows through Node.
    await database.db.execute(sql`
      insert into predictions (id, endpoint_id, model_version_id, inputs, outputs, latency_ms, error, route, created_at)
      select ${`${route}_`} || g, ${endpointId}, ${versionId}, jsonb_build_object('f0', p, 'f1', 1 - p),
             case when g % 200 = 0 then null else jsonb_build_object('label', case when p > 0.5 then 'yes' else 'no' end, 'probability', p,
                  'probabilities', jsonb_build_object('no', 1 - p, 'yes', p)) end,
             1 + 4 * random(), case when g % 200 = 0 then 'timeout' end, ${route},
             ${from.toISOString()}::timestamptz + (g * interval '1 millisecond') * (3600000.0 / ${n})
      from generate_series(1, ${n}) g, lateral (select least(1, random() + ${shift} + g * 0) as p) r`);
  }
  const fillMs = performance.now() - fillStarted;

  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const stableWindow = await readPredictionWindow(database.db, { endpointId, versionId: stable, route: 'stable', from, to });
  const canaryWindow = await readPredictionWindow(database.db, { endpointId, versionId: canary, route: 'canary', from, to });
  const result = evaluateGates({ errorRate: 0.01, p99LatencyMs: 50, predictionShiftPsi: 0.2, minAccuracy: 0.9 }, { candidate: canaryWindow, stable: stableWindow });
  const ms = performance.now() - started;
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  console.log(`database            ${database.kind}`);
  console.log(`window rows         ${stableWindow.total} stable + ${canaryWindow.total} canary (filled in ${(fillMs / 1000).toFixed(1)} s)`);
  console.log(`gate evaluation     ${ms.toFixed(0)} ms (two window reads + evaluateGates)`);
  console.log(`heap growth         ${heapGrowthMb.toFixed(1)} MB`);
  console.log(`readings            ${result.readings.map((r) => `${r.gate}=${r.value === null ? 'null' : r.value.toFixed(4)}${r.passed ? '' : ' (breached)'}`).join(', ')}`);
  await database.close();
  await fresh?.drop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
