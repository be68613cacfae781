import { describe, expect, it } from 'vitest';
import { newerFirst, newestFirstPage, type ListedExecution, type VisibilityList, type WorkflowCursor } from '../../api/workflow-pages';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;

/**
 * Visibility as SQL stores answer: filters on StartTime (the only clauses the pager adds), no ORDER BY (here:
 * a fixed scrambled order), pages of at most `pageSize` behind an opaque token. Counts the calls made.
 */
function sqlVisibility(executions: ListedExecution[]) {
  const scrambled = [...executions].sort((a, b) => ((a.startMs * 7919 + a.workflowId.length) % 1009) - ((b.startMs * 7919 + b.workflowId.length) % 1009) || a.workflowId.localeCompare(b.workflowId));
  let calls = 0;
  const list: VisibilityList<ListedExecution> = (query, pageSize, token) => {
    calls++;
    const bounds = [...query.matchAll(/StartTime (>=|<) "([^"]+)"/g)].map(([, op, at]) => ({ op, ms: Date.parse(at!) }));
    const matching = scrambled.filter((e) => bounds.every((b) => (b.op === '>=' ? e.startMs >= b.ms : e.startMs < b.ms)));
    const offset = token ? Number(new TextDecoder().decode(token)) : 0;
    const next = offset + pageSize;
    return Promise.resolve({ executions: matching.slice(offset, next), nextPageToken: next < matching.length ? new TextEncoder().encode(String(next)) : undefined });
  };
  return { list, calls: () => calls };
}

async function walk(list: VisibilityList<ListedExecution>, pageSize: number): Promise<ListedExecution[][]> {
  const pages: ListedExecution[][] = [];
  let after: WorkflowCursor | undefined;
  for (;;) {
    const { page, next } = await newestFirstPage(list, 'FactoryProject = "p"', pageSize, after, NOW);
    pages.push(page);
    if (!next) return pages;
    after = next;
    if (pages.length > 10_000) throw new Error('never ends');
  }
}

describe('newest-first pages over a visibility store without ORDER BY', () => {
  it('gives every execution once, newest first, ties on the millisecond broken by workflow id and run id', async () => {
    const executions: ListedExecution[] = [];
    // A year of sparse history, a dense burst (more than a visibility page in one minute), and same-millisecond ties.
    for (let i = 0; i < 60; i++) executions.push({ startMs: NOW - 400 * DAY + i * 6 * DAY, workflowId: `old-${i}`, runId: 'r' });
    for (let i = 0; i < 2500; i++) executions.push({ startMs: NOW - 30_000 - (i % 700) * 50, workflowId: `burst-${i}`, runId: 'r' });
    for (const runId of ['a', 'b']) for (const id of ['tie-x', 'tie-y', 'tie-z']) executions.push({ startMs: NOW - 2 * DAY, workflowId: id, runId });
    const expected = [...executions].sort(newerFirst);
    const visibility = sqlVisibility(executions);

    for (const pageSize of [1, 7, 100]) {
      const pages = await walk(visibility.list, pageSize);
      expect(pages.flat()).toEqual(expected);
      expect(pages.slice(0, -1).every((p) => p.length === pageSize)).toBe(true);
    }
    expect(expected.filter((e) => e.workflowId.startsWith('tie-')).map((e) => `${e.workflowId}/${e.runId}`)).toEqual(['tie-z/b', 'tie-z/a', 'tie-y/b', 'tie-y/a', 'tie-x/b', 'tie-x/a']);
  });

  it('an empty listing is one page with no cursor', async () => {
    expect(await walk(sqlVisibility([]).list, 20)).toEqual([[]]);
  });

  it('a page of a sparse history takes a few visibility calls, not one per hour', async () => {
    const visibility = sqlVisibility(Array.from({ length: 30 }, (_, i) => ({ startMs: NOW - i * 3 * DAY, workflowId: `w-${i}`, runId: 'r' })));
    const { page, next } = await newestFirstPage(visibility.list, 'FactoryProject = "p"', 20, undefined, NOW);
    expect(page.map((e) => e.workflowId)).toEqual(Array.from({ length: 20 }, (_, i) => `w-${i}`));
    expect(next).toMatchObject({ workflowId: 'w-19' });
    expect(visibility.calls()).toBeLessThan(15);
  });
});
