import { execFile } from 'node:child_process';
import { access, chmod, constants, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create as createTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrBuildTemporalCli, findTemporalCli, temporalCliCacheDir } from '../../platform/temporal-cli';
import { downloadTemporalCli } from '../../platform/temporal-cli-download';
import { freePort } from '../../platform/temporal-dev-server';

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

/** A stand-in for temporal.download: the info endpoint the SDK calls, and a small tar.gz holding a fake `temporal`. */
describe('obtaining the Temporal CLI when none is installed', () => {
  let server: http.Server;
  let baseUrl: string;
  let archive: Buffer;
  const infoRequests: URL[] = [];
  let fileToExtract = 'temporal';

  beforeAll(async () => {
    const src = await mkdtemp(path.join(os.tmpdir(), 'temporal-archive-'));
    await writeFile(path.join(src, 'temporal'), '#!/bin/sh\necho fake temporal $1\n', { mode: 0o644 });
    await writeFile(path.join(src, 'LICENSE'), 'MIT\n');
    const file = path.join(src, 'cli.tar.gz');
    await createTar({ gzip: true, file, cwd: src }, ['LICENSE', 'temporal']);
    archive = await readFile(file);
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', baseUrl);
      if (url.pathname === '/cli/v1.5.1') {
        infoRequests.push(url);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ archiveUrl: `${baseUrl}/archives/temporal_cli.tar.gz`, fileToExtract }));
      } else if (url.pathname === '/archives/temporal_cli.tar.gz') {
        res.setHeader('content-length', archive.length);
        res.end(archive);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const recordingProgress = (seen: { received: number; total: number | undefined }[]) => () => ({
    update: (received: number, total: number | undefined) => void seen.push({ received, total }),
    stop: () => undefined,
  });

  it('downloads, extracts and caches an executable CLI, reporting progress', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'temporal-cli-'));
    const env = { XDG_CACHE_HOME: path.join(root, 'cache'), PATH: '', TEMPORAL_CLI_DOWNLOAD_URL: baseUrl };
    const lines: string[] = [];
    const progress: { received: number; total: number | undefined }[] = [];
    const build = () => Promise.reject(new Error('must not build when the download works'));
    const cli = await findOrBuildTemporalCli(undefined, (l) => lines.push(l), { env, build, progress: recordingProgress(progress) });

    expect(cli).toBe(path.join(temporalCliCacheDir(env), 'temporal'));
    await access(cli, constants.X_OK);
    const { stdout } = await promisify(execFile)(cli, ['--version']);
    expect(stdout.trim()).toBe('fake temporal --version');
    expect(lines[0]).toMatch(/downloading it from .* \(about 50 MB; usually under a minute/);
    expect(progress.at(-1)).toEqual({ received: archive.length, total: archive.length });
    const info = infoRequests.at(-1);
    expect(Object.fromEntries(info?.searchParams ?? [])).toEqual({ platform: 'linux', arch: process.arch === 'arm64' ? 'arm64' : 'amd64', format: 'tar.gz' });
    // Only the binary is left behind: no archive, no temp directory.
    expect(await readdir(temporalCliCacheDir(env))).toEqual(['temporal']);
    // Found in the cache next time, without a download.
    expect(await findOrBuildTemporalCli(undefined, () => undefined, { env, download: () => Promise.reject(new Error('no second download')) })).toBe(cli);
  });

  it('refuses an archive entry that would land outside the cache', async () => {
    fileToExtract = '../../escape';
    try {
      const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'temporal-cli-')), 'bin');
      await expect(downloadTemporalCli({ dir, baseUrl })).rejects.toThrow(/did not name an archive and a file to extract/);
    } finally {
      fileToExtract = 'temporal';
    }
  });

  it('falls back to building with Go when the download fails', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'temporal-cli-'));
    const env = { XDG_CACHE_HOME: path.join(root, 'cache'), PATH: '', TEMPORAL_CLI_DOWNLOAD_URL: `http://127.0.0.1:${await freePort()}` };
    const lines: string[] = [];
    let built = 0;
    const build = () => {
      built++;
      return Promise.resolve('/built/with/go/temporal');
    };
    expect(await findOrBuildTemporalCli(undefined, (l) => lines.push(l), { env, build, progress: recordingProgress([]) })).toBe('/built/with/go/temporal');
    expect(built).toBe(1);
    expect(lines.at(-1)).toMatch(/^Could not download the Temporal CLI \(.*ECONNREFUSED.*\); building it with Go instead\.$/);
  });

  it('says what to do in one line when there is neither a download nor Go', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'temporal-cli-'));
    const env = { XDG_CACHE_HOME: path.join(root, 'cache'), PATH: path.join(root, 'empty-bin'), TEMPORAL_CLI_DOWNLOAD_URL: `http://127.0.0.1:${await freePort()}` };
    const err = await findOrBuildTemporalCli(undefined, () => undefined, { env, progress: recordingProgress([]) }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/could not be downloaded .* and Go is not installed to build it: install the Temporal CLI .* set TEMPORAL_CLI_PATH/);
    expect(err?.message).not.toContain('\n');
  });
});
