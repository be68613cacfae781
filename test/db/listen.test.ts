import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';

const waitFor = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('DatabaseHandle.listen', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('delivers a NOTIFY sent in a transaction on commit only, and nothing after unlisten', async () => {
    const heard: string[] = [];
    const unlisten = await database.listen('factory_listen_test', { onNotify: (p) => heard.push(p) });
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_notify('factory_listen_test', 'committed')`);
    });
    await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`select pg_notify('factory_listen_test', 'rolled back')`);
        throw new Error('roll back');
      })
      .catch(() => {});
    await waitFor(() => heard.length > 0, 'the notification');
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual(['committed']);
    await unlisten();
    await database.db.execute(sql`select pg_notify('factory_listen_test', 'after')`);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual(['committed']);
  });

  it.skipIf(!inject('databaseUrl'))('on PostgreSQL, reconnects after its connection is killed, asks for a resync, and hears again', async () => {
    const heard: string[] = [];
    let resyncs = 0;
    const unlisten = await database.listen('factory_listen_kill', { onNotify: (p) => heard.push(p), onResync: () => resyncs++ });
    await database.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where query = 'LISTEN "factory_listen_kill"'`);
    await waitFor(() => resyncs === 1, 'the resync after reconnecting');
    await database.db.execute(sql`select pg_notify('factory_listen_kill', 'again')`);
    await waitFor(() => heard.includes('again'), 'a notification after the reconnect');
    await unlisten();
  });
});
