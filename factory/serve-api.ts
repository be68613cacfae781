import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiEnv } from '../api/env';

/**
 * Serves the API over HTTP. A refused body (413) is not read whole: the route stops at the limit and answers
 * with `Connection: close`; @hono/node-server then drains what is in flight (at most 500 ms or 64 MiB) before
 * closing, so the client reads the JSON answer instead of a reset connection (test/api/body-limit.test.ts).
 */
export async function serveApi(app: Hono<ApiEnv>, opts: { port: number; hostname: string }): Promise<ServerType> {
  const server = serve({ fetch: app.fetch, port: opts.port, hostname: opts.hostname, autoCleanupIncoming: true });
  // Resolve once it accepts connections, so "running" is never logged before a client could connect.
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`PORT ${opts.port} is already in use: stop what listens there, or set PORT to a free port.`) : err),
    );
  });
  return server;
}
