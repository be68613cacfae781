import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveAlias } from '../../db/queries/aliases';
import { models } from '../../db/schema';
import type { TrainedClassifier } from '../../ml/trained-model';
import { goodClassifier } from '../support/onnx-graphs';
import { registerVersion } from '../support/deployed-model';
import { startTestFactory, type TestFactory } from '../support/test-factory';

interface HistoryPage {
  history: { id: number; from: { version: number } | null; to: { version: number }; reason: string }[];
  nextCursor: string | null;
}

const MOVES = 130;

/** An alias moved more than a hundred times: its whole history reads page by page, newest first. */
describe('alias history pages', () => {
  let t: TestFactory;
  let viewer: string;
  const model: TrainedClassifier = { ...goodClassifier(0.1, 3), features: ['tenure', 'spend', 'noise'] };
  let move: (i: number) => Promise<unknown>;

  const page = async (query: string): Promise<HistoryPage> => {
    const res = await t.request('GET', `/v1/models/paged/aliases/staging/history${query}`, { key: viewer });
    expect(res.status).toBe(200);
    return (await res.json()) as HistoryPage;
  };
  const reasons = (p: HistoryPage) => p.history.map((h) => h.reason);
  /** Reasons of moves `from` down to `to`, newest first. */
  const moves = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => `move ${from - i}`);

  beforeAll(async () => {
    t = await startTestFactory({ parts: { api: true } });
    viewer = await t.createKey('viewer');
    const versions = [await registerVersion(t, 'paged', model), await registerVersion(t, 'paged', model)];
    const [row] = await t.database.db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'paged')));
    move = (i: number) =>
      moveAlias(t.database.db, { projectId: t.projectId, modelId: row!.id, alias: 'staging', toVersionId: versions[i % 2]!.id, actor: 'test', reason: `move ${i}`, workflowId: null, idempotencyKey: `paged-${i}` });
    for (let i = 1; i <= MOVES; i++) await move(i);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('gives 50 moves a page by default, newest first, and every move once across pages', async () => {
    const first = await page('');
    expect(reasons(first)).toEqual(moves(130, 81));
    expect(first.history[0]).toMatchObject({ from: { version: 2 }, to: { version: 1 } });
    const second = await page(`?cursor=${first.nextCursor}`);
    expect(reasons(second)).toEqual(moves(80, 31));
    const third = await page(`?cursor=${second.nextCursor}`);
    expect(reasons(third)).toEqual(moves(30, 1));
    expect(third.history.at(-1)?.from).toBeNull();
    expect(third.nextCursor).toBeNull();
  });

  it('takes a limit up to 100; moves made while paging do not shift later pages', async () => {
    const first = await page('?limit=100');
    expect(reasons(first)).toEqual(moves(130, 31));
    await move(131);
    const second = await page(`?limit=100&cursor=${first.nextCursor}`);
    expect(reasons(second)).toEqual(moves(30, 1));
    expect(second.nextCursor).toBeNull();
    expect(reasons(await page('?limit=1'))).toEqual(['move 131']);
  });

  it('refuses a limit or cursor it cannot honour', async () => {
    for (const [query, code] of [
      ['?limit=101', 'invalid_limit'],
      ['?limit=0', 'invalid_limit'],
      ['?cursor=abc', 'invalid_cursor'],
      ['?cursor=-1', 'invalid_cursor'],
    ] as const) {
      const res = await t.request('GET', `/v1/models/paged/aliases/staging/history${query}`, { key: viewer });
      expect({ query, status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ query, status: 400, code });
    }
  });
});
