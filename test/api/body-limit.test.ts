import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_BODY_BYTES } from '../../api/app';
import { serveApi } from '../../factory/serve-api';
import { startTestFactory, type TestFactory } from '../support/test-factory';

const UPLOAD_LIMIT = 256 * 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string; limitBytes?: number } };
  /** Request body bytes the client had written when the answer arrived. */
  sentBytes: number;
}

/**
 * Over-limit bodies through a real HTTP server and a real socket: the client gets a 413 JSON answer (not a
 * reset connection), declared or chunked, and the server stops reading instead of swallowing the body.
 */
describe('request bodies over the limit', () => {
  let t: TestFactory;
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    t = await startTestFactory({ maxUploadBytes: UPLOAD_LIMIT });
    server = (await serveApi(t.factory.app, { port: 0, hostname: '127.0.0.1' })) as http.Server;
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.stop();
  });

  /**
   * Sends `total` bytes in 16 KiB chunks (declared with Content-Length or chunked), stopping as soon as the
   * answer arrives, as a well-behaved client does; a reset or broken pipe before the answer fails the test.
   */
  function send(path: string, opts: { total: number; declare: boolean; contentType: string; holdBody?: boolean; ignoreAnswer?: boolean }): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${t.adminKey}`, 'content-type': opts.contentType };
      if (opts.declare) headers['content-length'] = opts.total;
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers });
      let sent = 0;
      let answered = false;
      const chunk = Buffer.alloc(16 * 1024, 'a');
      req.on('response', (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Answer['body'], sentBytes: sent });
          } catch {
            reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
          }
          req.destroy();
        });
      });
      req.on('error', (err) => {
        // The server closes after a short drain; a client still writing then gets EPIPE, but the answer was
        // sent before the close and is read from the socket like curl does. Without an answer, it fails.
        if (!answered) setTimeout(() => answered || reject(err), 2_000);
      });
      if (opts.holdBody) {
        req.flushHeaders();
        return;
      }
      const pump = (): void => {
        while ((!answered || opts.ignoreAnswer) && sent < opts.total) {
          const piece = chunk.subarray(0, Math.min(chunk.length, opts.total - sent));
          sent += piece.length;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered || opts.ignoreAnswer) req.end();
      };
      pump();
    });
  }

  const expect413 = (answer: Answer, limit: number) => {
    expect({ status: answer.status, code: answer.body.error?.code, limitBytes: answer.body.error?.limitBytes }).toEqual({ status: 413, code: 'payload_too_large', limitBytes: limit });
    expect(answer.body.error?.message).toMatch(/larger than/);
  };

  it('a declared upload over the limit is refused before its body is sent', async () => {
    const answer = await send('/v1/datasets/big/versions', { total: UPLOAD_LIMIT * 4, declare: true, contentType: 'text/csv', holdBody: true });
    expect413(answer, UPLOAD_LIMIT);
    expect(answer.sentBytes).toBe(0);
  });

  it('a chunked upload over the limit gets a 413 JSON answer, not a reset connection', async () => {
    const answer = await send('/v1/datasets/big/versions', { total: UPLOAD_LIMIT * 16, declare: false, contentType: 'text/csv' });
    expect413(answer, UPLOAD_LIMIT);
    expect(answer.headers.connection).toBe('close');
    // The server answered once it had read just past the limit, long before the whole body.
    expect(answer.sentBytes).toBeLessThan(UPLOAD_LIMIT * 16);
  });

  it('a client that sends its whole body regardless still reads the 413', async () => {
    const answer = await send('/v1/datasets/big/versions', { total: UPLOAD_LIMIT * 64, declare: false, contentType: 'text/csv', ignoreAnswer: true });
    expect413(answer, UPLOAD_LIMIT);
  });

  it('a declared JSON body over the limit is refused before its body is sent', async () => {
    const answer = await send('/v1/pipelines', { total: MAX_JSON_BODY_BYTES * 2, declare: true, contentType: 'application/json', holdBody: true });
    expect413(answer, MAX_JSON_BODY_BYTES);
    expect(answer.sentBytes).toBe(0);
  });

  it('a chunked JSON body over the limit gets a 413 JSON answer', async () => {
    const answer = await send('/v1/pipelines', { total: MAX_JSON_BODY_BYTES * 4, declare: false, contentType: 'application/json' });
    expect413(answer, MAX_JSON_BODY_BYTES);
    expect(answer.sentBytes).toBeLessThan(MAX_JSON_BODY_BYTES * 4);
  });

  it('the server still answers on a new connection afterwards', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});
