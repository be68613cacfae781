import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Db } from '../db/client';
import { claimIdempotencyKey, findIdempotencyRecord, recordIdempotentResponse, releaseIdempotencyKey, type IdempotencyRecord } from '../db/queries/idempotency';
import { UserError } from '../platform/user-error';
import type { ApiEnv } from './env';
import { workflowStatusPath } from './workflow-links';

/** Printable ASCII without spaces, as in the IETF Idempotency-Key draft; a UUID fits easily. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** How long a duplicate waits for the first request's answer before it runs the (idempotent) start itself. */
const WAIT_FOR_FIRST_ANSWER_MS = 5_000;

export interface StartAnswer {
  status: 200 | 201 | 202;
  /** With a workflowId, a 202 says where to follow the workflow (Location). */
  body: Record<string, unknown> & { workflowId?: string };
}

/** What `start` may rely on being the same on every retry of the request. */
export interface FirstRequest {
  /** When the key was first claimed (now, without a key): a default "until now" is read from it, so a retry asks for the same. */
  requestedAt: Date;
}

/** The request's Idempotency-Key, checked; undefined when the client sent none. */
export function idempotencyKeyOf(c: Context<ApiEnv>): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY_PATTERN.test(key)) {
    throw new UserError('invalid_idempotency_key', 'The Idempotency-Key header must be 1-255 printable ASCII characters without spaces; a UUID is a good choice.', 400, {
      field: 'Idempotency-Key',
    });
  }
  return key;
}

export function sha256Hex(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/**
 * Answers a POST that starts a workflow at most once per Idempotency-Key: the first request claims the key
 * and records its answer; a duplicate with the same request gets that answer; one with another request a 409.
 * `start` must itself be idempotent (a workflow id derived from the key or content, USE_EXISTING; a time read
 * from `requestedAt`, not the clock), because a duplicate of a request that crashed before answering runs it
 * again to recover the same workflow.
 */
export async function answerOnce(
  c: Context<ApiEnv>,
  db: Db,
  request: { key: string | undefined; route: string; requestHash: string },
  start: (first: FirstRequest) => Promise<StartAnswer>,
): Promise<Response> {
  const { key } = request;
  if (key === undefined) return respond(c, await start({ requestedAt: new Date() }));
  const ref = { projectId: c.get('auth').projectId, key };
  const claim = await claimIdempotencyKey(db, { ...ref, route: request.route, requestHash: request.requestHash });
  if (!claim.claimed) {
    const sameRequest = claim.record.route === request.route && claim.record.requestHash === request.requestHash;
    const record = sameRequest ? await waitForAnswer(db, ref, claim.record) : claim.record;
    // The first request failed and freed the key meanwhile: this one claims it afresh.
    if (!record) return answerOnce(c, db, request, start);
    if (record.route !== request.route || record.requestHash !== request.requestHash) {
      throw new UserError(
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request; send a new key for a new request, or repeat the original request unchanged.',
        409,
        { field: 'Idempotency-Key' },
      );
    }
    if (record.status !== null && record.response) {
      c.header('Idempotent-Replayed', 'true');
      return respond(c, { status: record.status as StartAnswer['status'], body: record.response });
    }
  }
  let answer: StartAnswer;
  try {
    answer = await start({ requestedAt: claim.claimed ? claim.createdAt : claim.record.createdAt });
  } catch (err) {
    if (claim.claimed) await releaseIdempotencyKey(db, ref);
    throw err;
  }
  await recordIdempotentResponse(db, { ...ref, status: answer.status, response: answer.body, workflowId: answer.body.workflowId ?? null });
  // Whoever recorded first wins: every duplicate answers exactly as the first did.
  const recorded = await findIdempotencyRecord(db, ref);
  if (recorded?.status != null && recorded.response) return respond(c, { status: recorded.status as StartAnswer['status'], body: recorded.response });
  return respond(c, answer);
}

async function waitForAnswer(db: Db, ref: { projectId: string; key: string }, first: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
  let record: IdempotencyRecord | undefined = first;
  const deadline = Date.now() + WAIT_FOR_FIRST_ANSWER_MS;
  while (record?.status === null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    record = await findIdempotencyRecord(db, ref);
  }
  return record;
}

function respond(c: Context<ApiEnv>, answer: StartAnswer): Response {
  if (answer.status === 202 && answer.body.workflowId !== undefined) c.header('Location', workflowStatusPath(answer.body.workflowId));
  return c.json(answer.body, answer.status);
}
