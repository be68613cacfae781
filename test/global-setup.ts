import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import type { ProvidedContext } from 'vitest';
import { openDatabase } from '../db/client';
import { findOrBuildTemporalCli } from '../platform/temporal-cli';
import { startDevServer } from '../platform/temporal-dev-server';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { FACTORY_SEARCH_ATTRIBUTES } from '../workflows/contracts';

declare module 'vitest' {
  interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    databaseUrl: string;
  }
}

/**
 * Once per `npm test`: one real Temporal dev server, a freshly migrated PostgreSQL (when DATABASE_URL is
 * set; else each test file uses its own in-memory PGlite), and one workflow bundle shared by every worker.
 */
export default async function setup(project: { provide: <K extends keyof ProvidedContext>(key: K, value: ProvidedContext[K]) => void }): Promise<() => Promise<void>> {
  const cliPath = await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, (line) => console.log(line));
  const [devServer, bundlePath] = await Promise.all([
    startDevServer({ cliPath, namespace: 'default', keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name) }),
    writeBundle(),
    resetDatabase(process.env.DATABASE_URL),
  ]);
  project.provide('temporalAddress', devServer.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('databaseUrl', process.env.DATABASE_URL ?? '');
  return () => devServer.stop();
}

async function writeBundle(): Promise<string> {
  const out = path.resolve(__dirname, '..', '.factory-test', 'workflow-bundle.js');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, (await buildWorkflowBundle()).code);
  return out;
}

async function resetDatabase(url: string | undefined): Promise<void> {
  if (!url) return;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS drizzle CASCADE; CREATE SCHEMA public;');
  } finally {
    await client.end();
  }
  const handle = await openDatabase({ url });
  try {
    await handle.migrate();
  } finally {
    await handle.close();
  }
}
