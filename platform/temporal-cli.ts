import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { downloadTemporalCli, TEMPORAL_CLI_VERSION, TEMPORAL_DOWNLOAD_BASE_URL, type DownloadOptions } from './temporal-cli-download';

const run = promisify(execFile);


export const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

/** Where a built CLI is cached, outside any checkout, so every clone and CI run reuses it. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'ai-factory', 'bin');
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Finds the Temporal CLI: an explicit path, then PATH, then the cache directory. */
export async function findTemporalCli(explicitPath?: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (explicitPath) {
    if (await isExecutable(explicitPath)) return explicitPath;
    throw new Error(`TEMPORAL_CLI_PATH=${explicitPath} is not an executable file.`);
  }
  const cached = path.join(temporalCliCacheDir(env), 'temporal');
  if (await isExecutable(cached)) return cached;
  return onPath('temporal', env);
}

/** Builds the CLI with `go install` into the cache directory (a few minutes, once per machine). */
export async function buildTemporalCli(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const go = await onPath('go', env);
  if (!go) throw new NoGoError();
  const dir = temporalCliCacheDir(env);
  await mkdir(dir, { recursive: true });
  log(`Building the Temporal CLI (${TEMPORAL_CLI_MODULE}) with Go into ${dir}; this happens once and usually takes 4-5 minutes.`);
  await run(go, ['install', TEMPORAL_CLI_MODULE], {
    env: { ...env, GOBIN: dir },
    maxBuffer: 64 * 1024 * 1024,
  });
  return path.join(dir, 'temporal');
}

class NoGoError extends Error {
  constructor() {
    super('Go is not installed');
  }
}

export interface ObtainCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Injected by tests; default: the real download and `go install`. */
  download?: (opts: DownloadOptions) => Promise<string>;
  build?: (log: (line: string) => void, env: NodeJS.ProcessEnv) => Promise<string>;
  /** Shows download progress; default: a progress bar on stderr. */
  progress?: () => { update(received: number, total: number | undefined): void; stop(): void };
}

/**
 * Finds the Temporal CLI, or obtains it once per machine: download it like the SDK's test environment does
 * (about a minute), else build it with Go (4-5 minutes, for machines that can reach only a Go module proxy).
 */
export async function findOrBuildTemporalCli(explicitPath: string | undefined, log: (line: string) => void, opts: ObtainCliOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const found = await findTemporalCli(explicitPath, env);
  if (found) return found;

  const dir = temporalCliCacheDir(env);
  const baseUrl = env.TEMPORAL_CLI_DOWNLOAD_URL || TEMPORAL_DOWNLOAD_BASE_URL;
  log(`The Temporal CLI ${TEMPORAL_CLI_VERSION} is not installed: downloading it from ${baseUrl} into ${dir} (about 50 MB; usually under a minute, once per machine).`);
  const progress = (opts.progress ?? progressBar)();
  let downloadError: unknown;
  try {
    const cli = await (opts.download ?? downloadTemporalCli)({ dir, baseUrl, onProgress: (received, total) => progress.update(received, total) });
    progress.stop();
    log(`Downloaded the Temporal CLI to ${cli}.`);
    return cli;
  } catch (err) {
    progress.stop();
    downloadError = err;
  }
  const reason = downloadError instanceof Error ? (downloadError.cause instanceof Error ? `${downloadError.message}: ${downloadError.cause.message}` : downloadError.message) : String(downloadError);
  log(`Could not download the Temporal CLI (${reason}); building it with Go instead.`);
  try {
    return await (opts.build ?? buildTemporalCli)(log, env);
  } catch (err) {
    if (!(err instanceof NoGoError)) throw err;
    throw new Error(
      `The Temporal CLI could not be downloaded (${reason}) and Go is not installed to build it: install the Temporal CLI ` +
        '(https://docs.temporal.io/cli) and set TEMPORAL_CLI_PATH, set TEMPORAL_CLI_DOWNLOAD_URL to a reachable mirror, or point TEMPORAL_ADDRESS at a running Temporal server.',
    );
  }
}

/** One line on stderr that redraws in a terminal, and a line every few seconds in a log file. */
function progressBar(): { update(received: number, total: number | undefined): void; stop(): void } {
  const bar = new SingleBar(
    { format: 'Temporal CLI download [{bar}] {percentage}% {receivedMb}/{totalMb} MB', noTTYOutput: true, notTTYSchedule: 3000, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  return {
    update(received, total) {
      if (!started) {
        bar.start(total ?? 0, 0, { receivedMb: '0.0', totalMb: total ? mb(total) : '?' });
        started = true;
      }
      bar.update(total ? received : 0, { receivedMb: mb(received), totalMb: total ? mb(total) : '?' });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
