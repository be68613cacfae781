import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { PGlite } from '@electric-sql/pglite';
import { Client, Pool } from 'pg';
import * as schema from './schema';
import { startPgliteServer } from './pglite-server';

/** One type for both drivers: code above this file never knows which it runs on. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** A connection string other processes can use (PostgreSQL, or PGlite served by its own process); undefined for PGlite in this thread. */
  url?: string;
  migrate(): Promise<void>;
  /**
   * Calls `onNotify` with the payload of every NOTIFY on `channel` until the returned function is called.
   * On PostgreSQL it holds one connection outside the pool; when that connection drops it reconnects with
   * backoff and then calls `onResync`, since notifications sent while it was away are lost.
   */
  listen: (channel: string, handlers: NotificationHandlers) => Promise<() => Promise<void>>;
  /**
   * `COPY table (columns) FROM` rows in PostgreSQL's text format, where the driver can (PGlite: about twice
   * the rows per second of a multi-row INSERT, on the thread that also serves requests). Undefined on pg.
   */
  copyIn?: (table: string, columns: readonly string[], text: string) => Promise<void>;
  close(): Promise<void>;
}

export interface NotificationHandlers {
  onNotify(payload: string): void;
  /** After a reconnect: whatever the notifications would have said must be read again. */
  onResync?(): void;
  /** A lost or failed listening connection (it is retried). */
  onError?(err: unknown): void;
}

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

/**
 * PGlite in a directory runs in a process of its own (served over a unix socket, reached with node-postgres
 * like PostgreSQL) unless `inThread` is set (the bench's comparison); in memory it runs on the caller's thread
 * (unit tests) unless `ownProcess` is set (crash tests, whose worker processes must reach it).
 */
export type DatabaseTarget = { url: string } | { pgliteDir: string; inThread?: boolean } | { inMemory: true; ownProcess?: boolean };

/** Opens PostgreSQL when a URL is given, else PGlite in a directory (or in memory for tests). */
export async function openDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if ('url' in target) return openPostgres(target.url);
  if ('pgliteDir' in target ? !target.inThread : target.ownProcess) {
    const server = await startPgliteServer('pgliteDir' in target ? { dataDir: target.pgliteDir } : {});
    const handle = openPostgres(server.url);
    return {
      ...handle,
      kind: 'pglite',
      close: async () => {
        await handle.close();
        await server.stop();
      },
    };
  }
  return openPgliteInThread(target);
}

function openPostgres(url: string): DatabaseHandle {
  const pool = new Pool({ connectionString: url, max: 10 });
  // A connection whose backend dies (restart, failover, pg_terminate_backend) emits 'error', which would
  // crash the process unheard. Idle ones are dropped by the pool ('error' on the pool); one in use fails
  // its query, which the caller sees (activities are retried), and the pool drops it on release.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg(pool, { schema });
  const listeners = new Set<() => Promise<void>>();
  return {
    db,
    kind: 'postgres',
    url,
    migrate: () => migratePg(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    async listen(channel, handlers) {
      const stop = await listenPostgres(url, channel, handlers);
      const unlisten = async (): Promise<void> => {
        listeners.delete(unlisten);
        await stop();
      };
      listeners.add(unlisten);
      return unlisten;
    },
    close: async () => {
      await Promise.all([...listeners].map((unlisten) => unlisten()));
      await pool.end();
    },
  };
}

async function openPgliteInThread(target: { pgliteDir: string } | { inMemory: true }): Promise<DatabaseHandle> {
  let client: PGlite;
  if ('pgliteDir' in target) {
    mkdirSync(target.pgliteDir, { recursive: true });
    client = await PGlite.create(target.pgliteDir);
  } else {
    client = await PGlite.create();
  }
  const db = drizzlePglite(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    // One process owns a PGlite database, so its notifications never get lost: no reconnect, no resync.
    async listen(channel, handlers) {
      const unlisten = await client.listen(channel, (payload) => handlers.onNotify(payload));
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    async copyIn(table, columns, text) {
      const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;
      await client.query(`COPY ${quoted(table)} (${columns.map(quoted).join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([text]) });
    },
    close: () => client.close(),
  };
}

const LISTEN_BACKOFF_MS = { first: 100, max: 5_000 };

/** LISTEN on a dedicated connection (a pooled one would be handed to queries); reconnects with doubling backoff. */
async function listenPostgres(url: string, channel: string, handlers: NotificationHandlers): Promise<() => Promise<void>> {
  let stopped = false;
  let current: Client | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const connect = async (): Promise<void> => {
    const client = new Client({ connectionString: url });
    const lost = (err?: unknown): void => {
      if (err !== undefined) handlers.onError?.(err);
      if (stopped || client !== current) return;
      current = undefined;
      void client.end().catch(() => {});
      void reconnect();
    };
    client.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotify(message.payload ?? '');
    });
    client.on('error', lost);
    client.on('end', () => lost());
    current = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (err) {
      current = undefined;
      await client.end().catch(() => {});
      throw err;
    }
  };

  const reconnect = async (): Promise<void> => {
    for (let backoff = LISTEN_BACKOFF_MS.first; !stopped; backoff = Math.min(backoff * 2, LISTEN_BACKOFF_MS.max)) {
      await pause(backoff);
      if (stopped) return;
      try {
        await connect();
        if (stopped) return;
        handlers.onResync?.();
        return;
      } catch (err) {
        handlers.onError?.(err);
      }
    }
  };

  await connect();
  return async () => {
    stopped = true;
    wake?.();
    const client = current;
    current = undefined;
    await client?.end().catch(() => {});
  };
}
