import type { Context } from 'hono';
import type { z } from 'zod';
import { UserError } from '../platform/user-error';

/** Reads a JSON body, or fails with `invalid_json`. */
export async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new UserError('invalid_json', 'The request body is not valid JSON; send a JSON object with Content-Type: application/json.', 400);
  }
}

/** The 422 for a body field that is wrong: `field` as a path (`records[3]`), `(body)` for the body itself. */
export function invalidRequest(field: string, message: string): UserError {
  return new UserError('invalid_request', `${field}: ${message}.`, 422, { field });
}

/** Reads and validates a JSON body; the error names the first field that is wrong and why. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const parsed = schema.safeParse(await readJsonBody(c));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(body)';
    throw invalidRequest(field, issue?.message ?? 'is invalid');
  }
  return parsed.data;
}

/** Names of datasets, endpoints and models: safe in URLs, logs and workflow ids. */
export const RESOURCE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function checkResourceName(kind: string, name: string): string {
  if (!RESOURCE_NAME.test(name)) {
    throw new UserError(
      'invalid_name',
      `The ${kind} name "${name.slice(0, 80)}" is not valid: use 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      400,
      { field: kind },
    );
  }
  return name;
}

/** `?flag=true|false`; absent is false. */
export function booleanQuery(value: string | undefined, field: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new UserError('invalid_query_parameter', `?${field}= takes true or false (got "${value.slice(0, 40)}").`, 400, { field });
}
