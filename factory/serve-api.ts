import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiEnv } from '../api/env';

/**
 * Serves the API over HTTP. A refused body (413) is not read whole: the route stops at the limit and answers
 * with `Connection: close`; @hono/node-server then drains what is in flight (at most 500 ms or 64 MiB) before
 * closing, so the client reads the JSON answer instead of a reset connection (test/api/body-limit.test.ts).
 */
export function serveApi(app: Hono<ApiEnv>, opts: { port: number; hostname: string }): ServerType {
  return serve({ fetch: app.fetch, port: opts.port, hostname: opts.hostname, autoCleanupIncoming: true });
}
