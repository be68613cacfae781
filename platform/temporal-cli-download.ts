import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { extract } from 'tar';

/** The CLI version the factory runs (later tags cannot be `go install`ed, see DESIGN.md). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** Temporal's download service, which the SDK's test environment (sdk-core ephemeral_server) also uses. */
export const TEMPORAL_DOWNLOAD_BASE_URL = 'https://temporal.download';

export interface DownloadOptions {
  /** The cache directory the binary ends up in. */
  dir: string;
  /** Overridable (TEMPORAL_CLI_DOWNLOAD_URL) for mirrors and tests. */
  baseUrl?: string;
  version?: string;
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

/** What the download service answers for a version, platform and architecture. */
interface ArchiveInfo {
  archiveUrl: string;
  fileToExtract: string;
}

export function temporalExecutableName(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'temporal.exe' : 'temporal';
}

/**
 * Downloads the CLI the way the SDK does: ask `<base>/cli/<version>?platform=&arch=&format=tar.gz` for the
 * archive, stream it to a temp file, extract the one binary, make it executable and rename it into place,
 * so a crash mid-way never leaves a broken `temporal` in the cache.
 */
export async function downloadTemporalCli(opts: DownloadOptions): Promise<string> {
  const base = (opts.baseUrl ?? TEMPORAL_DOWNLOAD_BASE_URL).replace(/\/+$/, '');
  const query = new URLSearchParams({ platform: downloadPlatform(), arch: downloadArch(), format: 'tar.gz' });
  const info = await fetchArchiveInfo(`${base}/cli/${opts.version ?? TEMPORAL_CLI_VERSION}?${query.toString()}`);

  await mkdir(opts.dir, { recursive: true });
  const work = path.join(opts.dir, `.download-${randomUUID()}`);
  await mkdir(work);
  try {
    const archive = path.join(work, 'cli.tar.gz');
    await fetchToFile(info.archiveUrl, archive, opts.onProgress);
    await extract({ file: archive, cwd: work, filter: (entry) => entry.replace(/^\.\//, '') === info.fileToExtract });
    const binary = path.join(work, info.fileToExtract);
    await chmod(binary, 0o755).catch(() => {
      throw new Error(`The Temporal CLI archive ${info.archiveUrl} has no ${info.fileToExtract}.`);
    });
    const target = path.join(opts.dir, temporalExecutableName());
    await rename(binary, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function fetchArchiveInfo(url: string): Promise<ArchiveInfo> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status} ${res.statusText}`);
  const info = (await res.json()) as Partial<ArchiveInfo>;
  // The file name becomes a path: only a plain name is accepted, never one that climbs out of the temp directory.
  if (typeof info.archiveUrl !== 'string' || typeof info.fileToExtract !== 'string' || !/^[\w.-]+$/.test(info.fileToExtract) || info.fileToExtract.startsWith('..')) {
    throw new Error(`${url} did not name an archive and a file to extract`);
  }
  return { archiveUrl: info.archiveUrl, fileToExtract: info.fileToExtract };
}

async function fetchToFile(url: string, file: string, onProgress: DownloadOptions['onProgress']): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || undefined;
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      onProgress?.(received, total);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(file));
}

function downloadPlatform(): string {
  if (process.platform === 'win32') return 'windows';
  if (process.platform === 'darwin') return 'darwin';
  return 'linux';
}

function downloadArch(): string {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64' || process.arch === 'arm') return 'arm64';
  throw new Error(`There is no Temporal CLI download for the ${process.arch} architecture.`);
}
