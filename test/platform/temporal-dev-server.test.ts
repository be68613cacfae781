import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { findOrBuildTemporalCli } from '../../platform/temporal-cli';
import { startDevServer } from '../../platform/temporal-dev-server';

describe('the embedded Temporal dev server', () => {
  it('registers the search attributes it is given, also on a database file made before they existed', async () => {
    const cliPath = await findOrBuildTemporalCli(process.env.TEMPORAL_CLI_PATH, () => undefined);
    const home = await mkdtemp(path.join(os.tmpdir(), 'dev-server-'));
    const dbFile = path.join(home, 'temporal.sqlite');
    try {
      const before = await startDevServer({ cliPath, namespace: 'default', dbFile, keywordSearchAttributes: ['FactoryProject'] });
      await before.stop();
      const after = await startDevServer({ cliPath, namespace: 'default', dbFile, keywordSearchAttributes: ['FactoryProject', 'FactoryModel'] });
      try {
        const connection = await Connection.connect({ address: after.address });
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        await connection.close();
        expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['FactoryProject', 'FactoryModel']));
      } finally {
        await after.stop();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
