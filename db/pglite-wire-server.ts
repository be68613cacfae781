import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/**
 * What ends anything a vanished client left open, as PostgreSQL does when a backend loses its client: ROLLBACK
 * (an explicit or an unsynced implicit transaction), Sync (ends the extended protocol's skip-until-Sync after
 * an error), ROLLBACK again (an explicit transaction that was in that state).
 */
const ABANDON = [simpleQuery('ROLLBACK'), Buffer.from([0x53, 0, 0, 0, 4]), simpleQuery('ROLLBACK')];

/**
 * Serves one PGlite over the PostgreSQL wire protocol (a unix socket or a TCP port), so node-postgres talks
 * to it exactly as to PostgreSQL. PGlite has one session, so connections take turns: a connection holds
 * the database from its first message until PGlite reports it idle again (ReadyForQuery 'I'), which keeps
 * each transaction and each Parse/Bind/Execute/Sync run whole. LISTEN is tracked per connection and
 * notifications go to the connections that listen, whichever connection's commit raised them.
 */
export class PgliteWireServer {
  private readonly server: Server;
  private readonly connections = new Set<WireConnection>();
  private turn: Promise<void> = Promise.resolve();

  constructor(readonly pglite: PGlite) {
    this.server = createServer((socket) => {
      const connection = new WireConnection(socket, this);
      this.connections.add(connection);
      socket.once('close', () => this.connections.delete(connection));
    });
  }

  /** A unix socket path, or a TCP port on 127.0.0.1 (0: any free one). Resolves to the bound port or path. */
  listen(where: string | number): Promise<string | number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const bound = (): void => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : String(address));
      };
      if (typeof where === 'string') this.server.listen(where, bound);
      else this.server.listen(where, '127.0.0.1', bound);
    });
  }

  /** Waits for the database's turn; the returned function gives it back. */
  take(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const granted = this.turn.then(() => release);
    this.turn = this.turn.then(() => next);
    return granted;
  }

  notify(message: Buffer, channel: string): void {
    for (const c of this.connections) if (c.listensTo(channel)) c.write(message);
  }

  /** Stops accepting, drops every connection (rolling back what each left open), then resolves. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) c.destroy();
    });
    await this.take().then((release) => release());
  }
}

class WireConnection {
  private input = Buffer.alloc(0);
  private started = false;
  private release: (() => void) | undefined;
  private pumping = false;
  private closed = false;
  private readonly channels = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly server: PgliteWireServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.input = Buffer.concat([this.input, chunk]);
      void this.pump();
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.closed = true;
      void this.pump();
    });
  }

  listensTo(channel: string): boolean {
    return this.channels.has(channel) || this.channels.has('*');
  }

  write(bytes: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Runs complete messages in order; once closed, gives the database back clean. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      await this.run();
    } catch {
      // PGlite refused the bytes outright (not an SQL error, which it answers): this client is done.
      this.closed = true;
      this.socket.destroy();
    }
    try {
      if (this.closed || this.socket.destroyed) await this.abandon();
    } finally {
      this.pumping = false;
    }
  }

  /** The messages that have arrived, in order, each with the database's turn held. */
  private async run(): Promise<void> {
    for (let message = this.nextMessage(); message && !this.closed; message = this.nextMessage()) {
      if (message === 'skip') continue;
      if (message[0] === 0x58) {
        // Terminate: PGlite's single session must outlive this client.
        this.socket.end();
        break;
      }
      this.release ??= await this.server.take();
      if (this.closed) break;
      this.track(message);
      const status = await this.execute(message);
      if (status === 'I') {
        this.release();
        this.release = undefined;
      }
    }
  }

  /** The next whole message, 'skip' for a startup probe answered here, or undefined until more bytes arrive. */
  private nextMessage(): Buffer | 'skip' | undefined {
    const headerLength = this.started ? 5 : 8;
    if (this.input.length < headerLength) return undefined;
    const length = this.started ? 1 + this.input.readInt32BE(1) : this.input.readInt32BE(0);
    if (this.input.length < length) return undefined;
    const message = this.input.subarray(0, length);
    this.input = this.input.subarray(length);
    if (this.started) return message;
    const code = message.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.write(Buffer.from('N'));
      return 'skip';
    }
    if (code === CANCEL_REQUEST) {
      // There is no other backend to cancel: PGlite runs one statement at a time.
      this.socket.end();
      return 'skip';
    }
    this.started = true;
    return message;
  }

  /** Feeds one message to PGlite, passes its answer on whole messages at a time; returns the last ReadyForQuery status. */
  private async execute(message: Buffer): Promise<string | undefined> {
    let pending = Buffer.alloc(0);
    let status: string | undefined;
    await this.server.pglite.execProtocolRawStream(new Uint8Array(message), {
      onRawData: (data) => {
        pending = pending.length ? Buffer.concat([pending, data]) : Buffer.from(data);
        const out: Buffer[] = [];
        let at = 0;
        while (pending.length - at >= 5) {
          const end = at + 1 + pending.readInt32BE(at + 1);
          if (end > pending.length) break;
          const reply = pending.subarray(at, end);
          if (reply[0] === 0x41) this.server.notify(Buffer.from(reply), notificationChannel(reply));
          else out.push(reply);
          if (reply[0] === 0x5a) status = String.fromCharCode(reply[5] ?? 0);
          at = end;
        }
        pending = pending.subarray(at);
        if (out.length) this.write(Buffer.concat(out));
      },
    });
    return status;
  }

  /** Remembers LISTEN / UNLISTEN sent as a simple query or a Parse, so notifications find this connection. */
  private track(message: Buffer): void {
    const type = message[0];
    if (type !== 0x51 && type !== 0x50) return;
    let text = message.subarray(5);
    if (type === 0x50) text = text.subarray(text.indexOf(0) + 1);
    const sql = text.subarray(0, Math.max(0, text.indexOf(0))).toString('utf8');
    const command = /^\s*(LISTEN|UNLISTEN)\s+("(?:[^"]|"")+"|[\w$]+|\*)\s*;?\s*$/i.exec(sql);
    if (!command) return;
    const raw = command[2] ?? '';
    const channel = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw === '*' ? '*' : raw.toLowerCase();
    if (command[1]?.toUpperCase() === 'LISTEN') this.channels.add(channel);
    else if (channel === '*') this.channels.clear();
    else this.channels.delete(channel);
  }

  /** A client that went away mid-transaction: roll back as PostgreSQL would, then let the next connection in. */
  private async abandon(): Promise<void> {
    this.channels.clear();
    if (!this.release) return;
    try {
      for (const message of ABANDON) await this.server.pglite.execProtocolRaw(new Uint8Array(message));
    } catch {
      // Nothing more to undo than PGlite would refuse to run.
    } finally {
      this.release();
      this.release = undefined;
    }
  }
}

function simpleQuery(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const header = Buffer.alloc(5);
  header[0] = 0x51;
  header.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([header, text]);
}

/** NotificationResponse: 'A', length, backend pid, channel\0, payload\0. */
function notificationChannel(message: Buffer): string {
  const start = 9;
  return message.subarray(start, message.indexOf(0, start)).toString('utf8');
}
