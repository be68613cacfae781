import { createHash } from 'node:crypto';
import { UserError } from '../platform/user-error';
import * as workflows from '../workflows';
import { FactoryDataset, FactoryEndpoint, FactoryModel, FactoryProject } from '../workflows/contracts';
import { RESOURCE_NAME } from './json-body';
import type { WorkflowCursor } from './workflow-pages';

/** The workflow types this factory runs: the only values `type=` accepts. */
export const WORKFLOW_TYPES: readonly string[] = Object.keys(workflows).sort();

/** Visibility's ExecutionStatus values, keyed by a lenient spelling (case and '_' ignored: RUNNING, Running, timed_out). */
const STATUSES = new Map(['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut'].map((s) => [s.toLowerCase(), s]));

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface WorkflowFilters {
  type?: string;
  status?: string;
  dataset?: string;
  model?: string;
  endpoint?: string;
}

export interface WorkflowListRequest {
  query: string;
  pageSize: number;
  /** The last execution of the previous page (from pageToken); none for the first page. */
  after: WorkflowCursor | undefined;
}

/**
 * Turns the query string of `GET /v1/workflows` into a visibility query scoped to one project. Every value
 * is checked against a closed list or the resource-name pattern, so nothing a user sends can change the query.
 */
export function workflowListRequest(projectId: string, params: Record<string, string | undefined>): WorkflowListRequest {
  const clauses = [`${FactoryProject.name} = ${quote(projectId)}`];
  const { type, status, dataset, model, endpoint } = params;
  if (type !== undefined) {
    if (!WORKFLOW_TYPES.includes(type)) {
      throw new UserError('invalid_workflow_type', `Unknown workflow type "${type.slice(0, 60)}"; use one of ${WORKFLOW_TYPES.join(', ')}.`, 400, { field: 'type' });
    }
    clauses.push(`WorkflowType = ${quote(type)}`);
  }
  if (status !== undefined) {
    const canonical = STATUSES.get(status.toLowerCase().replace(/_/g, ''));
    if (!canonical) {
      throw new UserError('invalid_workflow_status', `Unknown workflow status "${status.slice(0, 60)}"; use one of ${[...STATUSES.values()].join(', ')}.`, 400, { field: 'status' });
    }
    clauses.push(`ExecutionStatus = ${quote(canonical)}`);
  }
  for (const [field, key, value] of [
    ['dataset', FactoryDataset, dataset],
    ['model', FactoryModel, model],
    ['endpoint', FactoryEndpoint, endpoint],
  ] as const) {
    if (value === undefined) continue;
    if (!RESOURCE_NAME.test(value)) {
      throw new UserError('invalid_name', `The ${field} filter "${value.slice(0, 60)}" is not a valid ${field} name: use lowercase letters, digits, '.', '_' or '-'.`, 400, { field });
    }
    clauses.push(`${key.name} = ${quote(value)}`);
  }
  const query = clauses.join(' AND ');
  return { query, pageSize: pageSize(params.pageSize), after: decodePageToken(query, params.pageToken) };
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PAGE_SIZE) {
    throw new UserError('invalid_page_size', `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE} (got "${raw.slice(0, 20)}").`, 400, { field: 'pageSize' });
  }
  return n;
}

/**
 * The API's page token: the cursor (where the previous page stopped) behind a checksum over it and the query,
 * so a damaged token or one from another listing is refused instead of misapplied.
 */
export function encodePageToken(query: string, cursor: WorkflowCursor | null): string | null {
  if (!cursor) return null;
  const body = Buffer.from(JSON.stringify([cursor.startMs, cursor.workflowId, cursor.runId]));
  return Buffer.concat([tokenChecksum(query, body), body]).toString('base64url');
}

function decodePageToken(query: string, raw: string | undefined): WorkflowCursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalidPageToken();
  const bytes = Buffer.from(raw, 'base64url');
  const body = bytes.subarray(CHECKSUM_BYTES);
  if (body.length === 0 || !tokenChecksum(query, body).equals(bytes.subarray(0, CHECKSUM_BYTES))) throw invalidPageToken();
  const [startMs, workflowId, runId] = JSON.parse(body.toString('utf8')) as unknown[];
  if (!Number.isSafeInteger(startMs) || typeof workflowId !== 'string' || typeof runId !== 'string') throw invalidPageToken();
  return { startMs: startMs as number, workflowId, runId };
}

const CHECKSUM_BYTES = 8;

function tokenChecksum(query: string, body: Uint8Array): Buffer {
  return createHash('sha256').update(query).update('\0').update(body).digest().subarray(0, CHECKSUM_BYTES);
}

export function invalidPageToken(): UserError {
  return new UserError('invalid_page_token', 'pageToken is not one this API returned for these filters; pass nextPageToken from the previous page unchanged, with the same filters, or omit it for the first page.', 400, {
    field: 'pageToken',
  });
}

/** A visibility string literal; values reaching here are already restricted to safe characters. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
