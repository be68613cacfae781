import { execFile } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

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
  if (!go) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it. Install the Temporal CLI ' +
        '(https://docs.temporal.io/cli), set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at a running server.',
    );
  }
  const dir = temporalCliCacheDir(env);
  await mkdir(dir, { recursive: true });
  log(`Building the Temporal CLI (${TEMPORAL_CLI_MODULE}) into ${dir}; this happens once and takes a few minutes.`);
  await run(go, ['install', TEMPORAL_CLI_MODULE], {
    env: { ...env, GOBIN: dir },
    maxBuffer: 64 * 1024 * 1024,
  });
  return path.join(dir, 'temporal');
}

export async function findOrBuildTemporalCli(explicitPath: string | undefined, log: (line: string) => void): Promise<string> {
  return (await findTemporalCli(explicitPath)) ?? buildTemporalCli(log);
}
