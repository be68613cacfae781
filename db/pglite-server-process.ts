import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PgliteWireServer } from './pglite-wire-server';

/**
 * The PGlite process that db/pglite-server.ts forks: opens PGLITE_DATA_DIR (empty: in memory), serves it on
 * a unix socket in a private temporary directory, tells its parent where, and closes PGlite cleanly when
 * told to stop or when its parent goes away (even SIGKILLed: the IPC channel closes).
 */
async function main(): Promise<void> {
  const dataDir = process.env.PGLITE_DATA_DIR ?? '';
  const pidFile = dataDir ? `${path.resolve(dataDir)}.pid` : '';
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    await waitForPreviousOwner(pidFile);
    writeFileSync(pidFile, String(process.pid));
  }
  const pglite = await PGlite.create(dataDir || undefined);
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'ai-factory-pglite-'));
  const server = new PgliteWireServer(pglite);
  await server.listen(path.join(socketDir, '.s.PGSQL.5432'));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await server.close();
      await pglite.close();
      rmSync(socketDir, { recursive: true, force: true });
      if (pidFile) rmSync(pidFile, { force: true });
      process.exit(0);
    })());
  process.on('message', (message) => {
    if (message === 'stop') void close();
  });
  process.once('disconnect', () => void close());
  // A terminal's Ctrl-C (or a SIGTERM to the whole group) reaches this process too: the factory stops it after its last write.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.send?.({ socketDir });
}

const PREVIOUS_OWNER_WAIT_MS = 60_000;

/**
 * A factory restarted right after its parent process died may find the old PGlite process still closing the
 * same directory (it finishes its query, then closes): two PGlite instances on one directory would corrupt it.
 */
async function waitForPreviousOwner(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  const deadline = Date.now() + PREVIOUS_OWNER_WAIT_MS;
  while (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
    // A pid the system gave to another program since: waiting longer would not help.
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
