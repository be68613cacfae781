/** Where a newest-first listing stopped: the last execution it gave. */
export interface WorkflowCursor {
  startMs: number;
  workflowId: string;
  runId: string;
}

export type ListedExecution = WorkflowCursor;

/** One call to visibility: executions matching `query` in the store's own order, and the token of the next page. */
export type VisibilityList<T> = (query: string, pageSize: number, token: Uint8Array | undefined) => Promise<{ executions: T[]; nextPageToken: Uint8Array | undefined }>;

/** Rows asked of visibility per call (SQL visibility's default maximum). */
const VISIBILITY_PAGE = 1000;
/** The first band of start times searched below the cursor; it grows while too few executions fall in it. */
const FIRST_SPAN_MS = 60 * 60_000;
const GROWTH = 8;

/** Newest first: start time, then workflow id, then run id, all descending. */
export function newerFirst(a: ListedExecution, b: ListedExecution): number {
  return b.startMs - a.startMs || compare(b.workflowId, a.workflowId) || compare(b.runId, a.runId);
}

/**
 * A page of executions newest first by start time. SQL visibility stores take no ORDER BY (they give
 * running executions first, then closed ones by close time) but do filter on StartTime, so this reads
 * bands of start time below the cursor, newest band first, widening each band while it holds too few
 * (narrowing one that holds more than a visibility page), and sorts what it read. Every execution of a band
 * is newer than any below it, so the page is exact and the cursor stable while workflows start and close.
 */
export async function newestFirstPage<T extends ListedExecution>(
  list: VisibilityList<T>,
  baseQuery: string,
  pageSize: number,
  after: WorkflowCursor | undefined,
  nowMs: number,
): Promise<{ page: T[]; next: WorkflowCursor | null }> {
  const found: T[] = [];
  // Start times are compared in whole milliseconds: the cursor's own millisecond is read again and filtered.
  let upper = after ? after.startMs + 1 : undefined;
  let span = FIRST_SPAN_MS;
  for (;;) {
    const lower = Math.max(0, (upper ?? nowMs) - span);
    const band = await readBand(list, baseQuery, lower, upper, span > 1 ? VISIBILITY_PAGE : Infinity);
    if (band === 'too_many') {
      span = Math.max(1, Math.floor(span / GROWTH));
      continue;
    }
    found.push(...band.filter((e) => !after || newerFirst(after, e) < 0));
    if (found.length > pageSize) break;
    const older = lower > 0 ? await list(`${baseQuery} AND StartTime < ${instant(lower)}`, 1, undefined) : { executions: [] };
    if (older.executions.length === 0) break;
    upper = lower;
    span *= GROWTH;
  }
  const page = found.sort(newerFirst).slice(0, pageSize);
  const last = page.at(-1);
  return { page, next: found.length > pageSize && last ? { startMs: last.startMs, workflowId: last.workflowId, runId: last.runId } : null };
}

/** Every execution started in [lowerMs, upperMs), or 'too_many' when that is more than `limit` rows. */
async function readBand<T>(list: VisibilityList<T>, baseQuery: string, lowerMs: number, upperMs: number | undefined, limit: number): Promise<T[] | 'too_many'> {
  const query = `${baseQuery} AND StartTime >= ${instant(lowerMs)}${upperMs === undefined ? '' : ` AND StartTime < ${instant(upperMs)}`}`;
  const rows: T[] = [];
  let token: Uint8Array | undefined;
  do {
    const response = await list(query, VISIBILITY_PAGE, token);
    rows.push(...response.executions);
    token = response.nextPageToken?.length ? response.nextPageToken : undefined;
    if (token && rows.length >= limit) return 'too_many';
  } while (token);
  return rows;
}

function instant(ms: number): string {
  return `"${new Date(ms).toISOString()}"`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
