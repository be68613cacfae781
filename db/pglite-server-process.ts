import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  if (dataDir) mkdirSync(dataDir, { recursive: true });
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

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
