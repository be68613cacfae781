import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictions } from '../../db/schema';
import { classifierOnnx, registerOnnxVersion, setEndpointTraffic } from '../support/serving-fixtures';
import { startTestFactory, type TestFactory } from '../support/test-factory';

let t: TestFactory;
afterAll(async () => {
  await t?.stop();
});
beforeAll(async () => {
  t = await startTestFactory({ parts: { api: true } });
});

describe('graceful stop', () => {
  it('after N concurrent predictions and stop(), the log holds exactly N answered rows and N shadow copies', async () => {
    const db = t.database.db;
    const stable = await registerOnnxVersion(db, t.factory.artifacts, { projectId: t.projectId, model: 'm', ...classifierOnnx(0.2, 3) });
    const shadow = await registerOnnxVersion(db, t.factory.artifacts, { projectId: t.projectId, model: 'm', ...classifierOnnx(-0.2, 3) });
    const endpointId = await setEndpointTraffic(db, { projectId: t.projectId, endpoint: 'stop', stable: stable.id, shadow: shadow.id });
    const n = 500;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.request('POST', '/v1/endpoints/stop/predict', { json: { records: [{ f0: i, f1: 1, f2: -1 }] } }).then(async (res) => ({ status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as { predictions: { id: string }[] } })),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // Shadow copies are still running or queued here: stop() must let them finish and flush them.
    await t.factory.stop();

    const rows = await db.select().from(predictions).where(eq(predictions.endpointId, endpointId));
    const answered = rows.filter((r) => r.route === 'stable');
    expect(answered).toHaveLength(n);
    expect(new Set(answered.map((r) => r.id))).toEqual(new Set(answers.map((a) => a.body.predictions[0]?.id)));
    expect(new Set(answered.map((r) => r.requestId))).toEqual(new Set(answers.map((a) => a.requestId)));
    expect(rows.filter((r) => r.route === 'shadow' && r.modelVersionId === shadow.id)).toHaveLength(n);

    // After stop the server refuses with a retryable 503 rather than answering without a log.
    const late = await t.request('POST', '/v1/endpoints/stop/predict', { json: { records: [{ f0: 1, f1: 1, f2: 1 }] } });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
  });
});
