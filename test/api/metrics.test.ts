import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { projects } from '../../db/schema';
import { Hono } from 'hono';
import { errorHandler } from '../../api/middleware/errors';
import { metricsRoutes } from '../../api/routes/metrics';
import { createLogger } from '../../platform/logger';
import type { TrainedClassifier } from '../../ml/trained-model';
import { ServingMetrics } from '../../serving/metrics';
import { goodClassifier } from '../support/onnx-graphs';
import { registerVersion, setEndpointTraffic } from '../support/deployed-model';
import { otherProjectAdminKey } from '../support/other-project';
import { startTestFactory, type TestFactory } from '../support/test-factory';

/** The value of the sample `name{labels}` in Prometheus text, whatever the label order; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][\w:]*)\{(.*)\} (\S+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const pairs: [string, string][] = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']);
    const found = Object.fromEntries(pairs);
    if (JSON.stringify(Object.entries(found).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(match[3]);
  }
  return undefined;
}

describe('Prometheus /metrics', () => {
  let t: TestFactory;
  const model: TrainedClassifier = { ...goodClassifier(0.1, 3), features: ['tenure', 'spend', 'noise'] };

  beforeAll(async () => {
    t = await startTestFactory({ parts: { api: true } });
    await setEndpointTraffic(t, 'churn', { stable: (await registerVersion(t, 'churn', model)).id });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('after real predictions (records API and V2) it shows records, latency and errors per endpoint, version and route', async () => {
    const predict = (records: unknown[]) => t.request('POST', '/v1/endpoints/churn/predict', { json: { records } });
    expect((await predict([{ tenure: 1, spend: 2, noise: 0 }, { tenure: 3, spend: 4, noise: 0 }])).status).toBe(200);
    expect((await predict([{ tenure: 5, spend: 6, noise: 0 }])).status).toBe(200);
    const v2 = await t.request('POST', '/v2/models/churn/infer', { json: { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] } });
    expect(v2.status).toBe(200);
    expect((await predict([{ tenure: 5 }])).status).toBe(422);
    expect((await t.request('POST', '/v1/endpoints/no-such-endpoint/predict', { json: { records: [{ tenure: 1 }] } })).status).toBe(404);

    // An admin key of the installation's project may scrape (no FACTORY_METRICS_TOKEN in this factory).
    const res = await t.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const [project] = await t.database.db.select({ name: projects.name }).from(projects).where(eq(projects.id, t.projectId));
    const labels = { project: project?.name ?? '', endpoint: 'churn', version: 'churn:1', route: 'stable' };
    expect(sample(text, 'factory_predictions_total', { ...labels, outcome: 'ok' })).toBe(4);
    expect(sample(text, 'factory_prediction_latency_seconds_count', labels)).toBe(3);
    expect(sample(text, 'factory_prediction_latency_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
    // Bad input counts against the version the request was routed to.
    expect(sample(text, 'factory_prediction_errors_total', { ...labels, code: 'missing_feature' })).toBe(1);
    expect(sample(text, 'factory_predictions_total', { ...labels, outcome: 'error' })).toBe(1);
    // A name nobody deployed makes no series (callers choose names; a series per typo would grow without end).
    expect(text).not.toContain('no-such-endpoint');
    // Process figures come with the same scrape.
    expect(text).toContain('factory_process_cpu_seconds_total');
  });

  it("is closed by default: no token, a viewer key or another project's admin key get 401 saying how to scrape", async () => {
    const anonymous = await t.request('GET', '/metrics', { key: null });
    expect(anonymous.status).toBe(401);
    const body = (await anonymous.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('metrics_token_required');
    expect(body.error.message).toContain('FACTORY_METRICS_TOKEN');
    expect((await t.request('GET', '/metrics', { key: await t.createKey('viewer') })).status).toBe(401);
    const tenant = await t.request('GET', '/metrics', { key: await otherProjectAdminKey(t) });
    expect([tenant.status, ((await tenant.json()) as { error: { code: string } }).error.code]).toEqual([401, 'invalid_metrics_token']);
  });

  it('with FACTORY_METRICS_TOKEN set, a scrape needs it as a bearer token', async () => {
    const routes = metricsRoutes({ metrics: new ServingMetrics({ processMetrics: false }), metricsToken: 'scrape-token-0123456789' });
    const app = new Hono().onError(errorHandler(createLogger('silent'))).route('/metrics', routes);
    const scrape = (authorization?: string) => app.request('/metrics', { headers: authorization ? { authorization } : {} });
    const anonymous = await scrape();
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'metrics_token_required' } });
    expect((await scrape('Bearer scrape-token-wrong')).status).toBe(401);
    const allowed = await scrape('Bearer scrape-token-0123456789');
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('# TYPE factory_predictions_total counter');
  });
});
