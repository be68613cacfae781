import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findTemporalCli, temporalCliCacheDir } from '../../platform/temporal-cli';

async function fakeCli(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'temporal');
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

describe('findTemporalCli', () => {
  it('prefers the configured path, then the cache, then PATH', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'temporal-cli-'));
    const env = { XDG_CACHE_HOME: path.join(root, 'cache'), PATH: path.join(root, 'bin') };
    expect(await findTemporalCli(undefined, env)).toBeUndefined();
    const onPath = await fakeCli(path.join(root, 'bin'));
    expect(await findTemporalCli(undefined, env)).toBe(onPath);
    const cached = await fakeCli(temporalCliCacheDir(env));
    expect(cached).toBe(path.join(root, 'cache', 'ai-factory', 'bin', 'temporal'));
    expect(await findTemporalCli(undefined, env)).toBe(cached);
    const configured = await fakeCli(path.join(root, 'custom'));
    expect(await findTemporalCli(configured, env)).toBe(configured);
  });

  it('says so when the configured path is not an executable', async () => {
    await expect(findTemporalCli('/nonexistent/temporal', {})).rejects.toThrow(/TEMPORAL_CLI_PATH=\/nonexistent\/temporal is not an executable/);
  });
});
