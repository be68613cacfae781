import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Readable } from 'node:stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { createIngestActivities } from '../activities/ingest';
import type { ActivityDeps } from '../activities/deps';
import { createRetrainDatasetActivities } from '../activities/retrain-dataset';
import { ArtifactStore } from '../artifacts/store';
import { createFreshDatabase } from './fresh-database';
import { openDatabase } from '../db/client';
import { bootstrapProject } from '../db/queries/projects';
import { insertEndpoint, insertModelVersion } from '../test/support/candidate-models';

/**
 * `npx tsx bench/retrain-dataset.ts [--rows=200000] [--base=100000] [--keep]` with DATABASE_URL (or
 * --postgres=<server url>): creates a fresh database, uploads a base dataset, fills one hour of an endpoint's
 * prediction log with generate_series (every row labelled, a tenth of them canary), then times one
 * buildRetrainDataset and samples the Node process's RSS: the window is read in keyset pages, so what grows
 * is the new version's columns (8 bytes per number, a reference per text value), not the query results.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const rows = Number(value('rows') ?? 200_000);
  const baseRows = Number(value('base') ?? 100_000);
  const server = value('postgres') ?? process.env.DATABASE_URL;
  if (!server) throw new Error('set DATABASE_URL or --postgres=postgres://… (a server where a fresh database can be created)');

  const fresh = await createFreshDatabase(server, 'bench_retrain');
  const database = await openDatabase({ url: fresh.url });
  const artifactRoot = await mkdtemp(path.join(os.tmpdir(), 'bench-retrain-'));
  try {
    await database.migrate();
    const db = database.db;
    const artifacts = new ArtifactStore(artifactRoot);
    const { projectId } = await bootstrapProject(db, { projectName: 'bench-retrain' });
    const inActivity = <R>(fn: () => Promise<R>): Promise<R> => new MockActivityEnvironment({ workflowExecution: { workflowId: 'bench', runId: randomUUID() } }).run<[], R, () => Promise<R>>(fn);

    let csv = 'tenure,spend,region,churned\n';
    for (let i = 0; i < baseRows; i++) csv += `${i % 60},${(i % 2000) / 10},r${i % 7},${i % 3 ? 'no' : 'yes'}\n`;
    const upload = await artifacts.putStream(Readable.from([csv]), { maxBytes: 1e9 });
    const ingest = createIngestActivities({ db, artifacts } as ActivityDeps);
    const profile = await inActivity(() => ingest.profileUpload({ uploadUri: upload.uri }));
    const base = await inActivity(() =>
      ingest.recordDatasetVersion({ projectId, datasetName: 'churn', uploadUri: upload.uri, uploadSha256: upload.sha256, uploadBytes: csv.length, contentType: 'text/csv', profile }),
    );
    const { modelVersionId } = await insertModelVersion(db, { projectId, model: 'churn', features: ['tenure', 'spend'], trainedOn: { datasetVersionId: base.datasetVersionId, target: 'churned' } });
    const endpointId = await insertEndpoint(db, { projectId, name: 'churn-live', stableVersionId: modelVersionId });
    const from = new Date('2026-03-01T00:00:00Z');
    const fillStarted = performance.now();
    await db.execute(sql`
      insert into predictions (id, endpoint_id, model_version_id, inputs, outputs, latency_ms, route, created_at)
      select 'pred_' || g, ${endpointId}, ${modelVersionId},
        jsonb_build_object('tenure', (g % 60), 'spend', round((random() * 200)::numeric, 1)),
        jsonb_build_object('label', 'no'), 1, case when g % 10 = 0 then 'canary' else 'stable' end,
        ${from.toISOString()}::timestamptz + ((g - 1) * 3600.0 / ${rows}) * interval '1 second'
      from generate_series(1, ${rows}) as g`);
    await db.execute(sql`insert into feedback_labels (prediction_id, label) select 'pred_' || g, to_jsonb(case when g % 4 = 0 then 'yes' else 'no' end) from generate_series(1, ${rows}) as g`);
    await db.execute(sql`analyze predictions`);
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    const retrain = createRetrainDatasetActivities({ db, artifacts });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    let peakHeap = 0;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      peak = Math.max(peak, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    }, 10);
    const started = performance.now();
    const result = await inActivity(() =>
      retrain.buildRetrainDataset({ projectId, endpointName: 'churn-live', baseModelVersionId: modelVersionId, window: { from: from.toISOString(), to: new Date(from.getTime() + 3600_000).toISOString() }, workflowId: 'bench-retrain' }),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
    const figures: [string, string][] = [
      ['base rows + labelled rows', `${result.baseRows.toLocaleString('en')} + ${result.feedbackRows.toLocaleString('en')} = ${result.rows.toLocaleString('en')}`],
      ['fill with generate_series', `${fillSeconds.toFixed(1)} s`],
      ['buildRetrainDataset', `${seconds.toFixed(1)} s (${Math.round(result.feedbackRows / seconds).toLocaleString('en')} labelled rows/s)`],
      ['Node RSS before → peak during the build', `${mb(rssBefore)} → ${mb(peak)} (peak JS heap used ${mb(peakHeap)}, limit ${mb(v8.getHeapStatistics().heap_size_limit)})`],
    ];
    const width = Math.max(...figures.map(([n]) => n.length));
    console.log(`\nretrain dataset bench on PostgreSQL`);
    for (const [n, v] of figures) console.log(`${n.padEnd(width)}  ${v}`);
  } finally {
    await database.close();
    await rm(artifactRoot, { recursive: true, force: true });
    if (!args.includes('--keep')) await fresh.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
