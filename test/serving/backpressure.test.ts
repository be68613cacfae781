import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictions } from '../../db/schema';
import { classifierOnnx, registerOnnxVersion, setEndpointTraffic } from '../support/serving-fixtures';
import { startTestFactory, type TestFactory } from '../support/test-factory';

let t: TestFactory;
afterAll(async () => {
  await t?.stop();
});
beforeAll(async () => {
  // A prediction log that may fall at most 8 rows behind.
  t = await startTestFactory({ parts: { api: true }, serving: { predictionLog: { maxPendingRows: 8, chunkRows: 4 } } });
});

describe('prediction-log back-pressure', () => {
  it('sheds load with 503 + Retry-After when the log falls behind, and every 200 answer has its rows', async () => {
    const db = t.database.db;
    const version = await registerOnnxVersion(db, t.factory.artifacts, { projectId: t.projectId, model: 'm', ...classifierOnnx(0, 3) });
    await setEndpointTraffic(db, { projectId: t.projectId, endpoint: 'busy', stable: version.id });

    // On PostgreSQL, hold the predictions table locked so the log cannot write at all for a while.
    let unlock: (() => void) | undefined;
    if (t.database.kind === 'postgres') {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const locked = new Promise<void>((ready) => {
        void db.transaction(async (tx) => {
          await tx.execute(sql`lock table predictions in exclusive mode`);
          ready();
          await held;
        });
      });
      await locked;
      unlock = release;
    }

    const send = () =>
      t.request('POST', '/v1/endpoints/busy/predict', { json: { records: [{ f0: 1, f1: 2, f2: 3 }, { f0: 0, f1: 0, f2: 0 }] } }).then(async (res) => ({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as { predictions?: { id: string }[]; error?: { code: string } },
      }));
    const pending = Array.from({ length: 200 }, send);
    if (unlock) setTimeout(unlock, 500);
    const answers = await Promise.all(pending);

    const shed = answers.filter((a) => a.status === 503);
    const ok = answers.filter((a) => a.status === 200);
    expect(shed.length).toBeGreaterThan(0);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length + shed.length).toBe(200);
    for (const a of shed) {
      expect(a.retryAfter).toBe('1');
      expect(a.body.error?.code).toBe('prediction_log_backpressure');
    }
    const ids = ok.flatMap((a) => a.body.predictions?.map((p) => p.id) ?? []);
    expect(ids).toHaveLength(ok.length * 2);
    const rows = await db.select({ id: predictions.id }).from(predictions).where(inArray(predictions.id, ids));
    expect(rows).toHaveLength(ids.length);
    expect(await t.factory.metrics.render()).toMatch(/factory_predictions_shed_total\{reason="prediction_log_backpressure"\} [1-9]/);
  });
});
