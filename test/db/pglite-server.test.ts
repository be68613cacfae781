import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { Client, Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { startPgliteServer, type PgliteServer } from '../../db/pglite-server';

/** `npm start`'s PGlite: a data directory, served by its own process, reached with node-postgres. */
describe('PGlite in its own process', () => {
  let home: string;
  let database: DatabaseHandle;

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'pglite-process-'));
    database = await openDatabase({ pgliteDir: path.join(home, 'pglite') });
    await database.migrate();
  });
  afterAll(async () => {
    await database?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('leaves this thread free while a long query runs', async () => {
    let last = performance.now();
    let worstGapMs = 0;
    const tick = setInterval(() => {
      worstGapMs = Math.max(worstGapMs, performance.now() - last);
      last = performance.now();
    }, 10);
    const started = performance.now();
    await database.db.execute(sql`select count(*) from generate_series(1, 1000000) as g, lateral (select md5(g::text)) as m`);
    const queryMs = performance.now() - started;
    clearInterval(tick);
    worstGapMs = Math.max(worstGapMs, performance.now() - last);
    // On this thread, PGlite's WASM would hold every timer and request for the whole query.
    expect(database.kind).toBe('pglite');
    expect(worstGapMs).toBeLessThan(queryMs / 2);
  });

  it('keeps what was written across a close and a reopen of the same directory', async () => {
    await database.db.execute(sql`create table kept (id int primary key)`);
    await database.db.execute(sql`insert into kept values (1), (2)`);
    await database.close();
    database = await openDatabase({ pgliteDir: path.join(home, 'pglite') });
    const kept: unknown = await database.db.execute(sql`select count(*)::int as n from kept`);
    expect((kept as { rows: { n: number }[] }).rows[0]?.n).toBe(2);
  });
});

/** The wire server's promises to node-postgres: sessions take turns whole, a vanished client's transaction is undone, NOTIFY reaches LISTEN. */
describe('PGlite wire server', () => {
  let server: PgliteServer;
  let pool: Pool;

  beforeAll(async () => {
    server = await startPgliteServer();
    pool = new Pool({ connectionString: server.url, max: 8 });
    await pool.query('create table t (id int primary key, v text)');
  });
  afterAll(async () => {
    await pool?.end();
    await server?.stop();
  });

  it('runs concurrent transactions from several connections each whole', async () => {
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query('insert into t values ($1, $2)', [i, `v${i}`]);
          await new Promise((r) => setTimeout(r, 2));
          if (i % 3 === 0) await client.query('rollback');
          else await client.query('commit');
        } finally {
          client.release();
        }
      }),
    );
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from t where id < 24');
    expect(rows[0]?.n).toBe(16);
  });

  it('rolls back the open transaction of a client that vanished, and serves the others on', async () => {
    const doomed = new Client({ connectionString: server.url });
    doomed.on('error', () => {});
    await doomed.connect();
    await doomed.query('begin');
    await doomed.query(`insert into t values (999, 'never')`);
    (doomed as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from t where id = 999');
    expect(rows[0]?.n).toBe(0);
  });

  it('delivers a NOTIFY committed on one connection to the connection that listens', async () => {
    const listener = new Client({ connectionString: server.url });
    await listener.connect();
    const heard = new Promise<string>((resolve) => listener.on('notification', (m) => resolve(`${m.channel}:${m.payload ?? ''}`)));
    await listener.query('LISTEN "changes"');
    await pool.query(`begin; select pg_notify('changes', 'ep_1'); commit;`);
    expect(await heard).toBe('changes:ep_1');
    await listener.end();
  });
});
