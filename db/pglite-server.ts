import { fork } from 'node:child_process';
import path from 'node:path';

export interface PgliteServer {
  /** A node-postgres connection string for the unix socket it serves. */
  url: string;
  pid: number | undefined;
  /** Closes PGlite cleanly and waits for its process to exit. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 30_000;

/**
 * Runs PGlite in a process of its own (db/pglite-server-process.ts) behind the PostgreSQL wire protocol, so
 * its queries (a drift scan over a million rows, a retrain's dataset build) never hold up the thread that
 * answers requests, and other processes (workers) can share the same database. It stays in its parent's
 * process group (a SIGKILL of the group takes it too) and exits when its parent does.
 */
export async function startPgliteServer(opts: { dataDir?: string } = {}): Promise<PgliteServer> {
  const extension = path.extname(__filename);
  const child = fork(path.join(__dirname, `pglite-server-process${extension}`), [], {
    cwd: path.resolve(__dirname, '..'),
    // Under tsx (npm start, tests) the entry is TypeScript; the build runs the compiled .js.
    execArgv: extension === '.ts' ? ['--import', 'tsx'] : [],
    env: { ...process.env, PGLITE_DATA_DIR: opts.dataDir ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socketDir = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { socketDir?: string }) => (message.socketDir ? resolve(message.socketDir) : reject(new Error('PGlite server sent no socket'))));
    child.once('exit', (code, signal) => reject(new Error(`the PGlite server process exited (${code ?? signal}) before it was ready${opts.dataDir ? ` (data directory ${opts.dataDir})` : ''}`)));
  });
  let stopping: Promise<void> | undefined;
  return {
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(socketDir)}`,
    pid: child.pid,
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      })()),
  };
}
