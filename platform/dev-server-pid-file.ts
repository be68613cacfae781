import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The embedded Temporal dev server's pid, kept under FACTORY_HOME: if the factory dies without stopping it
 * (SIGKILL of node alone), the orphan still holds the port and the SQLite history, and the next start ends it.
 */
export async function writeDevServerPid(pidFile: string, pid: number): Promise<void> {
  await writeFile(pidFile, `${pid}\n`);
}

export async function removeDevServerPid(pidFile: string): Promise<void> {
  await rm(pidFile, { force: true });
}

/** Stops the dev server a previous run left behind, if the recorded pid is still that server (pids get reused). */
export async function stopStaleDevServer(pidFile: string, dbFile: string, log: (line: string) => void): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const command = await commandLine(pid);
  if (command?.includes('start-dev') && command.includes(dbFile)) {
    log(`stopping the Temporal dev server a previous run left behind (pid ${pid})`);
    signal(pid, 'SIGTERM');
    if (!(await exitedWithin(pid, 5_000))) {
      signal(pid, 'SIGKILL');
      await exitedWithin(pid, 5_000);
    }
  }
  await removeDevServerPid(pidFile);
}

async function commandLine(pid: number): Promise<string | undefined> {
  const proc = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (proc !== undefined) return proc.split('\0').join(' ');
  // No /proc (macOS): ask ps; an exit code means no such process.
  return promisify(execFile)('ps', ['-p', String(pid), '-o', 'command='])
    .then(({ stdout }) => stdout.trim() || undefined)
    .catch(() => undefined);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function exitedWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
