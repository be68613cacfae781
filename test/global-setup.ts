import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProvidedContext } from 'vitest';
import { findOrBuildTemporalCli } from '../platform/temporal-cli';
import { startDevServer } from '../platform/temporal-dev-server';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { FACTORY_SEARCH_ATTRIBUTES } from '../workflows/contracts';
import { resetTestDatabase } from './support/test-database';

declare module 'vitest' {
  interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    databaseUrl: string;
  }
}

/**
 * Once per `npm test`: one real Temporal dev server, a freshly migrated PostgreSQL (when TEST_DATABASE_URL
 * is set; else each test file uses its own in-memory PGlite), and one workflow bundle shared by every worker.
 * DATABASE_URL, the database `npm start` uses, is never reset: a TEST_DATABASE_URL that names it is refused.
 */
export default async function setup(project: { provide: <K extends keyof ProvidedContext>(key: K, value: ProvidedContext[K]) => void }): Promise<() => Promise<void>> {
  const cliPath = await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, (line) => console.log(line));
  const [devServer, bundlePath, databaseUrl] = await Promise.all([
    startDevServer({ cliPath, namespace: 'default', keywordSearchAttributes: FACTORY_SEARCH_ATTRIBUTES.map((k) => k.name) }),
    writeBundle(),
    resetTestDatabase(process.env),
  ]);
  project.provide('temporalAddress', devServer.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('databaseUrl', databaseUrl ?? '');
  return () => devServer.stop();
}

async function writeBundle(): Promise<string> {
  const out = path.resolve(__dirname, '..', '.factory-test', 'workflow-bundle.js');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, (await buildWorkflowBundle()).code);
  return out;
}
