/**
 * A failure that is not the caller's mistake but still has a stable `code` a client can act on: the server
 * is shedding load (503, retry after `retryAfterSeconds`) or the model answered something unusable (500).
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: 500 | 503,
    readonly details: Record<string, string | number> & { retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}
