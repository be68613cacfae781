import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../../platform/logger';
import { ServiceError } from '../../platform/service-error';
import { UserError } from '../../platform/user-error';
import { userErrorFromFailure } from '../temporal-errors';

export function errorBody(err: UserError): { error: Record<string, unknown> } {
  return { error: { code: err.code, message: err.message, ...err.details } };
}

/** One place turns every failure into a response: a user's mistake keeps its code, anything else is a 500. */
export function errorHandler(logger: Logger) {
  return (err: Error, c: Context): Response => {
    const userError = err instanceof UserError ? err : userErrorFromFailure(err);
    if (userError) {
      // The rest of an over-limit body is not read: tell the client this connection ends with the answer.
      if (userError.status === 413) c.header('Connection', 'close');
      return c.json(errorBody(userError), userError.status);
    }
    // Counted in the serving metrics and (model failures) in the prediction log, not logged per request: a broken canary would flood the log.
    if (err instanceof ServiceError) {
      const { retryAfterSeconds, ...details } = err.details;
      if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
      return c.json({ error: { code: err.code, message: err.message, ...details, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) } }, err.status);
    }
    if (err instanceof HTTPException) {
      return c.json({ error: { code: 'http_error', message: err.message || 'The request could not be handled.' } }, err.status);
    }
    const requestId = c.get('requestId') as string | undefined;
    logger.error({ err, requestId, method: c.req.method, path: c.req.path }, 'request failed');
    return c.json(
      { error: { code: 'internal_error', message: `Something went wrong on the server; it has been logged under request id ${requestId ?? 'unknown'}.`, requestId } },
      500,
    );
  };
}
