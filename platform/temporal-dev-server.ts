import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { ensureKeywordSearchAttributes } from './temporal-search-attributes';

export interface DevServerOptions {
  cliPath: string;
  namespace: string;
  /** gRPC port; 0 picks a free one. */
  port?: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file for history that survives restarts; omit for in-memory. */
  dbFile?: string;
  log?: (line: string) => void;
  /** Keyword search attributes to register, so workflows can be started with them and filtered by them. */
  keywordSearchAttributes?: readonly string[];
}

export interface DevServer {
  address: string;
  /** The server process, for a pid file that outlives a crash of ours. */
  pid: number | undefined;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `temporal server start-dev` and resolves once it accepts connections. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port || (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', opts.namespace, '--log-level', 'error'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const name of opts.keywordSearchAttributes ?? []) args.push('--search-attribute', `${name}=Keyword`);
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilReady(address, opts.namespace, child, () => stderr);
    await registerKeywordSearchAttributes(address, opts.namespace, opts.keywordSearchAttributes ?? []);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    pid: child.pid,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    stop: () => stopChild(child),
  };
}

async function waitUntilReady(address: string, namespace: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The Temporal dev server exited with code ${child.exitCode}: ${stderr().trim()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`The Temporal dev server did not become ready at ${address}: ${String(lastError)}`);
}

/** `--search-attribute` only seeds a new database file: an existing one gets the missing keys added here. */
async function registerKeywordSearchAttributes(address: string, namespace: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const connection = await Connection.connect({ address });
  try {
    await ensureKeywordSearchAttributes(connection, namespace, names);
  } finally {
    await connection.close();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
