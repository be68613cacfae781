import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import seedrandom from 'seedrandom';
import { openDatabase } from '../db/client';
import { bootstrapProject } from '../db/queries/projects';
import { startFactory } from '../factory/start-factory';
import { createLogger } from '../platform/logger';
import { installTemporalLogger } from '../platform/temporal-logger';
import { findOrBuildTemporalCli } from '../platform/temporal-cli';
import { freePort, startDevServer } from '../platform/temporal-dev-server';
import { FACTORY_SEARCH_ATTRIBUTES } from '../workflows/contracts';

/**
 * `npx tsx bench/upload-answer.ts [MB]`: how long a client waits for the answer to a large CSV upload over
 * HTTP, answered at once (202) versus `?wait=true` (the ingest's whole run). Not part of npm test.
 */
async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 80);
  const csv = makeCsv(megabytes * 1e6);
  const logger = createLogger('error');
  installTemporalLogger(logger);
  const home = await mkdtemp(path.join(os.tmpdir(), 'bench-upload-'));
  const devServer = await startDevServer({
    cliPath: await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, console.log),
    namespace: 'default',
    keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name),
  });
  const database = await openDatabase({ inMemory: true });
  await database.migrate();
  const adminKey = `afk_bench_${'x'.repeat(32)}`;
  await bootstrapProject(database.db, { adminKey });
  const port = await freePort();
  const factory = await startFactory({
    db: database.db,
    artifactRoot: path.join(home, 'artifacts'),
    temporalAddress: devServer.address,
    namespace: 'default',
    taskQueues: { cpu: 'bench-cpu', gpu: 'bench-gpu' },
    logger,
    parts: { api: true, cpuWorker: true },
    port,
    maxUploadBytes: 1024 * 1024 * 1024,
  });
  try {
    const upload = async (name: string, query: string): Promise<[number, number, { workflowId: string }]> => {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/datasets/${name}/versions${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'text/csv' },
        body: csv,
      });
      const body = (await res.json()) as { workflowId: string };
      return [res.status, (performance.now() - started) / 1000, body];
    };
    const [acceptedStatus, accepted, { workflowId }] = await upload('bench-async', '');
    // Let that ingest finish first, so the blocking upload does not share the worker with it.
    await factory.client.workflow.getHandle(workflowId).result();
    const [waitedStatus, waited] = await upload('bench-wait', '?wait=true');
    console.log(`CSV upload of ${(csv.length / 1e6).toFixed(0)} MB over HTTP on this machine:`);
    console.log(`  answered at once:  ${acceptedStatus} after ${accepted.toFixed(1)} s`);
    console.log(`  with ?wait=true:   ${waitedStatus} after ${waited.toFixed(1)} s`);
  } finally {
    await factory.stop();
    await database.close();
    await devServer.stop();
    await rm(home, { recursive: true, force: true });
  }
}

function makeCsv(bytes: number): Buffer {
  const random = seedrandom('bench-upload');
  const lines = ['tenure,spend,noise,region,churned'];
  let size = 0;
  while (size < bytes) {
    const line = `${Math.round(random() * 60)},${(random() * 200).toFixed(1)},${(random() - 0.5).toFixed(3)},r${Math.floor(random() * 7)},${random() > 0.5 ? 'yes' : 'no'}`;
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
