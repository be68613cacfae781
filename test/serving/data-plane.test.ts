import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictions } from '../../db/schema';
import { nanOnnx } from '../support/onnx-graphs';
import { classifierOnnx, registerOnnxVersion, setEndpointTraffic } from '../support/serving-fixtures';
import { startTestFactory, type TestFactory } from '../support/test-factory';

interface Answer {
  status: number;
  requestId: string | null;
  body: { route?: string; modelVersion?: { id: string; version: number }; predictions?: { id: string }[]; error?: { code: string } };
}

let t: TestFactory;
let v1: { id: string; version: number };
let v2: { id: string; version: number };
let v3: { id: string; version: number };
const record = { f0: 0.5, f1: -1, f2: 2 };

async function predict(endpoint: string, opts: { routingKey?: string; records?: unknown[]; key?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? t.adminKey}`, 'content-type': 'application/json' };
  if (opts.routingKey) headers['x-routing-key'] = opts.routingKey;
  const res = await t.factory.app.request(`/v1/endpoints/${endpoint}/predict`, { method: 'POST', headers, body: JSON.stringify({ records: opts.records ?? [record] }) });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as Answer['body'] };
}

beforeAll(async () => {
  // API only: no workers to compete for the two cores; the poll runs fast so a test never waits long for it.
  t = await startTestFactory({ parts: { api: true }, serving: { routingPollMs: 200 } });
  const db = t.database.db;
  const register = (bias: number) => registerOnnxVersion(db, t.factory.artifacts, { projectId: t.projectId, model: 'churn', ...classifierOnnx(bias, 3) });
  v1 = await register(-1);
  v2 = await register(0);
  v3 = await register(1);
});
afterAll(async () => {
  await t?.stop();
});

describe('inference data plane', () => {
  it('swaps the stable version under 32 concurrent request loops without failing one, answering from the new version after', async () => {
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'swap', stable: v1.id });
    const loops = Array.from({ length: 32 }, async () => {
      const seen: number[] = [];
      // Until 10 answers came from the new version (bounded: a swap that never lands fails below).
      while (seen.filter((v) => v === v2.version).length < 10 && seen.length < 3_000) {
        const answer = await predict('swap');
        expect(answer.status).toBe(200);
        seen.push(answer.body.modelVersion?.version ?? -1);
      }
      return seen;
    });
    await new Promise((r) => setTimeout(r, 300));
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'swap', stable: v2.id });
    const sequences = await Promise.all(loops);
    for (const seen of sequences) {
      // Each loop saw v1 then v2, never v1 again once v2 answered, and v2 at the end.
      const firstNew = seen.indexOf(v2.version);
      expect(firstNew).toBeGreaterThanOrEqual(0);
      expect(seen.slice(firstNew).every((v) => v === v2.version)).toBe(true);
      expect(seen.slice(0, firstNew).every((v) => v === v1.version)).toBe(true);
    }
    expect(sequences.some((seen) => seen[0] === v1.version)).toBe(true);
  });

  it('batched concurrent requests: the batch-size histogram has runs of more than one row', async () => {
    const metrics = await t.factory.metrics.render();
    const label = `version="churn:${v1.version}"`;
    const count = Number(new RegExp(`factory_inference_batch_rows_count\\{${label}\\} (\\d+)`).exec(metrics)?.[1]);
    const single = Number(new RegExp(`factory_inference_batch_rows_bucket\\{le="1",${label}\\} (\\d+)`).exec(metrics)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(single).toBeLessThan(count);
  });

  it('keeps a routing key on one side of a canary split, and uses both sides', async () => {
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'sticky', stable: v1.id, canary: v2.id, canaryWeight: 50 });
    const sides = new Map<string, Set<string>>();
    for (let k = 0; k < 30; k++) {
      for (let i = 0; i < 3; i++) {
        const answer = await predict('sticky', { routingKey: `customer-${k}` });
        expect(answer.status).toBe(200);
        const side = `${answer.body.route}:${answer.body.modelVersion?.version}`;
        sides.set(`customer-${k}`, (sides.get(`customer-${k}`) ?? new Set()).add(side));
      }
    }
    expect([...sides.values()].every((s) => s.size === 1)).toBe(true);
    expect(new Set([...sides.values()].map((s) => [...s][0]))).toEqual(new Set([`stable:${v1.version}`, `canary:${v2.version}`]));
  });

  it('logs shadow copies under the same request id and never returns them', async () => {
    const endpointId = await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'shadowed', stable: v1.id, shadow: v3.id });
    const answers = await Promise.all(Array.from({ length: 10 }, () => predict('shadowed', { records: [record, { ...record, f0: 3 }] })));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ route: 'stable', modelVersion: { id: v1.id } });
      expect(a.body.predictions).toHaveLength(2);
    }
    const requestIds = answers.map((a) => a.requestId as string);
    let rows: (typeof predictions.$inferSelect)[] = [];
    for (let i = 0; i < 50 && rows.length < 40; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await t.database.db.select().from(predictions).where(inArray(predictions.requestId, requestIds));
    }
    expect(rows.filter((r) => r.route === 'stable' && r.modelVersionId === v1.id)).toHaveLength(20);
    const shadows = rows.filter((r) => r.route === 'shadow');
    expect(shadows).toHaveLength(20);
    expect(shadows.every((r) => r.modelVersionId === v3.id && r.endpointId === endpointId && r.error === null && r.outputs !== null)).toBe(true);
    expect(new Set(shadows.map((r) => r.requestId))).toEqual(new Set(requestIds));
    // Returned ids are the stable rows'.
    const returned = new Set(answers.flatMap((a) => a.body.predictions?.map((p) => p.id) ?? []));
    expect(shadows.some((r) => returned.has(r.id))).toBe(false);
  });

  it('answers a request pinned to a version from that side of the split, and refuses a version no longer served', async () => {
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'pinned', stable: v1.id, canary: v2.id, canaryWeight: 1 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.factory.predictor.predict(t.projectId, 'pinned', [record], { versionId: v2.id })));
    expect(answers.map((a) => [a.route, a.modelVersion.id])).toEqual(Array.from({ length: 10 }, () => ['canary', v2.id]));
    await expect(t.factory.predictor.predict(t.projectId, 'pinned', [record], { versionId: v3.id })).rejects.toMatchObject({ code: 'model_version_not_found', status: 404 });
  });

  it("logs a record's features only: extra fields the client sent are answered around, not stored", async () => {
    const endpointId = await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'extras', stable: v1.id });
    const answer = await predict('extras', { records: [{ ...record, customer: 'c-1', note: 'vip' }, record] });
    expect(answer.status).toBe(200);
    const rows = await t.database.db.select().from(predictions).where(eq(predictions.endpointId, endpointId));
    expect(rows.map((r) => r.inputs)).toEqual([record, record]);
  });

  it('answers a non-finite model output with 500 model_output_invalid and logs the failure', async () => {
    const broken = await registerOnnxVersion(t.database.db, t.factory.artifacts, { projectId: t.projectId, model: 'nan', onnx: nanOnnx(3), features: ['f0', 'f1', 'f2'] });
    const endpointId = await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'broken', stable: broken.id });
    const answer = await predict('broken');
    expect(answer.status).toBe(500);
    expect(answer.body.error).toMatchObject({ code: 'model_output_invalid', record: 0 });
    const rows = await t.database.db.select().from(predictions).where(eq(predictions.endpointId, endpointId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outputs: null, requestId: answer.requestId, modelVersionId: broken.id });
    expect(rows[0]?.error).toMatch(/^model_output_invalid: /);
  });

  it('rejects NaN spelled out and a missing feature before the model runs, naming the field', async () => {
    const nan = await predict('swap', { records: [record, { ...record, f2: 'NaN' }] });
    expect(nan.status).toBe(422);
    expect(nan.body.error).toMatchObject({ code: 'invalid_feature_value', field: 'records[1].f2' });
    const missing = await predict('swap', { records: [{ f0: 1, f1: 2 }] });
    expect(missing.body.error).toMatchObject({ code: 'missing_feature', field: 'records[0].f2' });
  });

  it('describes an endpoint from the routing table: versions, routes, weights, readiness', async () => {
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'described', stable: v1.id, canary: v2.id, canaryWeight: 20 });
    const described = await t.factory.predictor.describe(t.projectId, 'described');
    expect(described).toMatchObject({ endpoint: 'described', ready: true });
    expect(described?.versions.map((v) => [v.route, v.version, v.weight])).toEqual([
      ['stable', v1.version, 80],
      ['canary', v2.version, 20],
    ]);
    expect(described?.versions[0]?.inputSchema.features).toEqual(['f0', 'f1', 'f2']);
    expect(await t.factory.predictor.describe(t.projectId, 'no-such-endpoint')).toBeUndefined();
  });

  it('a revoked API key stops working at once on the process that revoked it, despite the key cache', async () => {
    const created = await t.request('POST', '/v1/api-keys', { json: { name: 'client', owner: 'client-service', role: 'operator' } });
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await predict('swap', { key })).status).toBe(200);
    expect((await t.request('DELETE', `/v1/api-keys/${id}`)).status).toBe(204);
    const after = await predict('swap', { key });
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('invalid_api_key');
  });

  it('answers 404 for an endpoint that does not exist, and serves it once a deploy creates it', async () => {
    expect((await predict('later')).body.error?.code).toBe('endpoint_not_found');
    await setEndpointTraffic(t.database.db, { projectId: t.projectId, endpoint: 'later', stable: v3.id });
    let answer = await predict('later');
    for (let i = 0; i < 30 && answer.status === 404; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await predict('later');
    }
    expect(answer).toMatchObject({ status: 200, body: { modelVersion: { id: v3.id } } });
  });
});
