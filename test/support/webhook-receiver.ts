import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedDelivery[];
  close(): Promise<void>;
}

/** What to answer the n-th request (from 1): a status, or a status with a redirect target. */
export type ReceiverAnswer = (n: number) => number | { status: number; location?: string };

/** A real HTTP receiver on `host` (127.0.0.1) and `port` (any free one) that keeps what it got and answers as told (200). */
export async function startWebhookReceiver(opts: { host?: string; port?: number; answer?: ReceiverAnswer } = {}): Promise<WebhookReceiver> {
  const { host = '127.0.0.1', port = 0, answer = () => 200 } = opts;
  const received: ReceivedDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = answer(received.length + 1);
      const { status, location } = typeof answered === 'number' ? { status: answered, location: undefined } : answered;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: status });
      res.writeHead(status, location ? { location } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${host}:${bound}/hooks`, port: bound, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
