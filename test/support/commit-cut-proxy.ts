import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';

export interface CommitCutProxy {
  /** Connect here instead of the database. */
  url: string;
  /**
   * Loses the acknowledgement of the next COMMIT of a transaction that ran a statement matching `statement`:
   * the COMMIT reaches the database and is answered, then both connections are cut and the client never
   * hears the answer. Resolves with that statement once the cut is made.
   */
  cutNextCommitAfter(statement: RegExp): Promise<string>;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a database (PostgreSQL, or PGlite served by its own process on a unix socket) that
 * reads the client's side of the wire protocol, so a test can cut a connection right after a COMMIT.
 */
export async function startCommitCutProxy(databaseUrl: string): Promise<CommitCutProxy> {
  const upstream = upstreamOf(databaseUrl);
  let armed: { statement: RegExp; cut: (sql: string) => void } | undefined;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const database = connect(upstream);
    for (const s of [client, database]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        database.destroy();
      });
    }
    let pending = Buffer.alloc(0);
    let started = false;
    let matched: string | undefined;
    let cutting: (() => void) | undefined;

    client.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      let at = 0;
      while (pending.length - at >= (started ? 5 : 8)) {
        const length = started ? 1 + pending.readInt32BE(at + 1) : pending.readInt32BE(at);
        if (pending.length - at < length) break;
        const message = pending.subarray(at, at + length);
        if (!started) started = message.readInt32BE(4) === 196608;
        const sql = statementOf(message);
        if (sql !== undefined && armed && matched === undefined && armed.statement.test(sql)) matched = sql;
        if (sql !== undefined && /^\s*(commit|rollback)\b/i.test(sql)) {
          if (armed && matched !== undefined && /^\s*commit\b/i.test(sql)) {
            const { cut } = armed;
            const statement = matched;
            armed = undefined;
            cutting = () => cut(statement);
          }
          matched = undefined;
        }
        at += length;
      }
      database.write(pending.subarray(0, at));
      pending = pending.subarray(at);
    });
    database.on('data', (chunk) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      // The database answered the COMMIT (ReadyForQuery ends the answer): drop it and both connections.
      if (!chunk.includes(0x5a)) return;
      client.destroy();
      database.destroy();
      cutting();
    });
    client.once('close', () => database.end());
    database.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: databaseUrl.replace(/@[^/]*\//, `@127.0.0.1:${port}/`).replace(/[?&]host=[^&]*/, ''),
    cutNextCommitAfter: (statement) => new Promise((resolve) => (armed = { statement, cut: resolve })),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The SQL of a simple Query ('Q') or of a Parse ('P'), else undefined. */
function statementOf(message: Buffer): string | undefined {
  const type = message[0];
  if (type !== 0x51 && type !== 0x50) return undefined;
  let text = message.subarray(5);
  if (type === 0x50) text = text.subarray(text.indexOf(0) + 1);
  return text.subarray(0, Math.max(0, text.indexOf(0))).toString('utf8');
}

/** Where a connection string points: a unix socket (`?host=/dir`, as PGlite's server gives) or host and port. */
function upstreamOf(databaseUrl: string): { path: string } | { host: string; port: number } {
  const socketDir = /[?&]host=(%2F[^&]*|\/[^&]*)/i.exec(databaseUrl)?.[1];
  if (socketDir) return { path: path.join(decodeURIComponent(socketDir), '.s.PGSQL.5432') };
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432) };
}
