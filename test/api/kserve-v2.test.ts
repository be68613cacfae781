import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictions } from '../../db/schema';
import type { TrainedClassifier, TrainedModel } from '../../ml/trained-model';
import { registerVersion, setEndpointTraffic } from '../support/deployed-model';
import { startTestFactory, type TestFactory } from '../support/test-factory';

/**
 * Conformance of /v2 with the Open Inference Protocol's REST specification (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md): health, server and model metadata, model ready, inference with
 * its tensor shapes and datatypes, request ids, output filters, and `{"error": "<message>"}` errors.
 */

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, string | number | boolean>;
  data: unknown[];
}
interface InferResponse {
  model_name: string;
  model_version?: string;
  id: string;
  parameters?: Record<string, string | number | boolean>;
  outputs: Tensor[];
}
interface V2Error {
  error: string;
  code: string;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function dense(features: string[], kernel: number[], bias: number[], activation: 'sigmoid' | 'softmax' | 'linear') {
  return {
    format: 'ai-factory.dense.v2' as const,
    family: 'logistic' as const,
    features,
    standardisation: { mean: features.map(() => 0), std: features.map(() => 1) },
    layers: [{ inputSize: features.length, units: bias.length, kernel, bias, activation }],
  };
}

/** p(yes) = sigmoid(-0.05 tenure + 0.02 spend + 0.1). */
const churn: TrainedClassifier = { ...dense(['tenure', 'spend', 'noise'], [-0.05, 0.02, 0], [0.1], 'sigmoid'), task: 'classification', classes: ['no', 'yes'] };
const churnYes = (tenure: number, spend: number) => sigmoid(-0.05 * tenure + 0.02 * spend + 0.1);
/** Classes are numbers (grades 1-3): softmax of [a, b, -a]. */
const grade: TrainedClassifier = { ...dense(['a', 'b'], [1, 0, -1, 0, 1, 0], [0, 0, 0], 'softmax'), task: 'classification', classes: ['1', '2', '3'] };
/** value = (2 x1 - x2 + 0.5) * 2 + 10. */
const price: TrainedModel = { ...dense(['x1', 'x2'], [2, -1], [0.5], 'linear'), task: 'regression', target: { mean: 10, std: 2 } };

describe('KServe V2 Open Inference Protocol (REST)', () => {
  let t: TestFactory;
  let viewerKey: string;
  let operatorKey: string;

  const infer = async (model: string, body: unknown, key?: string) => {
    const res = await t.request('POST', `/v2/models/${model}/infer`, { json: body, key });
    return { status: res.status, body: (await res.json()) as InferResponse & V2Error };
  };

  beforeAll(async () => {
    // No workers: every route here answers from the API process.
    t = await startTestFactory({ parts: { api: true } });
    viewerKey = await t.createKey('viewer');
    operatorKey = await t.createKey('operator');
    await setEndpointTraffic(t, 'churn', { stable: (await registerVersion(t, 'churn', churn)).id });
    await setEndpointTraffic(t, 'grade', { stable: (await registerVersion(t, 'grade', grade, { labelType: 'number' })).id });
    await setEndpointTraffic(t, 'price', { stable: (await registerVersion(t, 'price', price)).id });
    await setEndpointTraffic(t, 'empty', { stable: null });
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe('health and server metadata (no API key)', () => {
    it('GET /v2/health/live answers 200 {live: true}', async () => {
      const res = await t.request('GET', '/v2/health/live', { key: null });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ live: true });
    });

    it('GET /v2/health/ready answers 200 {ready: true} while the database and Temporal answer', async () => {
      const res = await t.request('GET', '/v2/health/ready', { key: null });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ready: true });
    });

    it('GET /v2/health/ready answers 503 {ready: false} with the reason once the server is shutting down', async () => {
      const second = await t.startWorkers({ api: true });
      await second.stop();
      const res = await second.app.request('/v2/health/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ready: false, error: 'the server is shutting down' });
      expect((await second.app.request('/v2/health/live')).status).toBe(200);
    });

    it('GET /v2 describes the server: name, version, extensions', async () => {
      const res = await t.request('GET', '/v2', { key: null });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { name: string; version: string; extensions: string[] };
      expect(body.name).toBe('ai-factory');
      expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(body.extensions).toEqual([]);
    });
  });

  describe('model metadata and readiness', () => {
    it('GET /v2/models/{name}: name, versions, platform, one FP32 input per feature, the outputs it answers', async () => {
      const res = await t.request('GET', '/v2/models/churn', { key: viewerKey });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        name: 'churn',
        versions: ['1'],
        platform: 'onnx_onnxv1',
        inputs: [
          { name: 'tenure', datatype: 'FP32', shape: [-1] },
          { name: 'spend', datatype: 'FP32', shape: [-1] },
          { name: 'noise', datatype: 'FP32', shape: [-1] },
        ],
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
          { name: 'prediction_id', datatype: 'BYTES', shape: [-1] },
        ],
      });
    });

    it('numeric class labels are INT64; a regressor answers a FP32 value', async () => {
      const gradeMeta = (await (await t.request('GET', '/v2/models/grade', { key: viewerKey })).json()) as { outputs: unknown[] };
      expect(gradeMeta.outputs).toContainEqual({ name: 'label', datatype: 'INT64', shape: [-1] });
      expect(gradeMeta.outputs).toContainEqual({ name: 'probabilities', datatype: 'FP32', shape: [-1, 3] });
      const priceMeta = (await (await t.request('GET', '/v2/models/price', { key: viewerKey })).json()) as { outputs: unknown[] };
      expect(priceMeta.outputs).toEqual([
        { name: 'value', datatype: 'FP32', shape: [-1] },
        { name: 'prediction_id', datatype: 'BYTES', shape: [-1] },
      ]);
    });

    it('GET /v2/models/{name}/versions/{version} names that version; an unserved version is a 404 with an error message', async () => {
      const res = await t.request('GET', '/v2/models/churn/versions/1', { key: viewerKey });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { versions: string[] }).versions).toEqual(['1']);
      const missing = await t.request('GET', '/v2/models/churn/versions/7', { key: viewerKey });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ code: 'model_version_not_found', error: expect.stringContaining('it serves 1') as unknown });
    });

    it('GET /v2/models/{name}/ready: 200 {name, ready: true}; 503 {ready: false} with nothing deployed; 404 for an unknown model', async () => {
      const ready = await t.request('GET', '/v2/models/churn/ready', { key: viewerKey });
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ name: 'churn', ready: true });
      const versionReady = await t.request('GET', '/v2/models/churn/versions/1/ready', { key: viewerKey });
      expect(await versionReady.json()).toEqual({ name: 'churn', ready: true });
      const empty = await t.request('GET', '/v2/models/empty/ready', { key: viewerKey });
      expect(empty.status).toBe(503);
      expect(await empty.json()).toEqual({ name: 'empty', ready: false });
      const unknown = await t.request('GET', '/v2/models/nope/ready', { key: viewerKey });
      expect(unknown.status).toBe(404);
      const body = (await unknown.json()) as V2Error;
      expect(body.code).toBe('model_not_found');
      expect(typeof body.error).toBe('string');
      expect(body.error).toContain('nope');
    });

    it('model routes need an API key (viewer reads metadata, operator infers), answered in the protocol error shape', async () => {
      const anonymous = await t.request('GET', '/v2/models/churn', { key: null });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ code: 'missing_api_key', error: expect.stringContaining('Authorization') as unknown });
      const viewerInfer = await infer('churn', { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, viewerKey);
      expect(viewerInfer.status).toBe(403);
      expect(viewerInfer.body.code).toBe('forbidden');
      expect(typeof viewerInfer.body.error).toBe('string');
    });
  });

  describe('inference', () => {
    it('one tensor per feature, flat [n] and nested [n, 1], FP32 and INT64: labels, probabilities [n, 2] and prediction ids; the request id comes back', async () => {
      const { status, body } = await infer(
        'churn',
        {
          id: '42',
          inputs: [
            { name: 'tenure', shape: [2], datatype: 'INT64', data: [2, 50] },
            { name: 'spend', shape: [2, 1], datatype: 'FP32', data: [[180], [10]] },
            { name: 'noise', shape: [2], datatype: 'FP64', data: [0, 0.5] },
          ],
        },
        operatorKey,
      );
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ model_name: 'churn', model_version: '1', id: '42', parameters: { model: 'churn', route: 'stable' } });
      expect(body.outputs.map((o) => o.name)).toEqual(['label', 'probabilities', 'prediction_id']);
      const [label, probabilities, ids] = body.outputs as [Tensor, Tensor, Tensor];
      expect(label).toEqual({ name: 'label', datatype: 'BYTES', shape: [2], data: ['yes', 'no'] });
      expect(probabilities).toMatchObject({ datatype: 'FP32', shape: [2, 2], parameters: { classes: '["no","yes"]' } });
      const p = probabilities.data as number[];
      expect(p[1]).toBeCloseTo(churnYes(2, 180), 5);
      expect(p[0]).toBeCloseTo(1 - churnYes(2, 180), 5);
      expect(p[3]).toBeCloseTo(churnYes(50, 10), 5);
      expect(ids).toMatchObject({ datatype: 'BYTES', shape: [2] });

      // The ids join the prediction log (and so feedback labels).
      const logged = await t.database.db.select().from(predictions).where(inArray(predictions.id, ids.data as string[]));
      expect(logged.map((r) => r.inputs).sort((a, b) => Number(a.tenure) - Number(b.tenure))).toEqual([
        { tenure: 2, spend: 180, noise: 0 },
        { tenure: 50, spend: 10, noise: 0.5 },
      ]);
    });

    it('one "features" tensor [n, f] in the model\'s feature order, nested or flat, answers as the per-feature form does', async () => {
      const nested = await infer('churn', { inputs: [{ name: 'features', shape: [2, 3], datatype: 'FP32', data: [[2, 180, 0], [50, 10, 0.5]] }] }, operatorKey);
      const flat = await infer('churn', { inputs: [{ name: 'features', shape: [2, 3], datatype: 'FP32', data: [2, 180, 0, 50, 10, 0.5] }] }, operatorKey);
      expect(nested.status).toBe(200);
      for (const res of [nested, flat]) {
        expect(res.body.outputs[0]?.data).toEqual(['yes', 'no']);
        expect((res.body.outputs[1]?.data as number[])[1]).toBeCloseTo(churnYes(2, 180), 5);
      }
    });

    it('without an id in the request the answer carries the server\'s request id', async () => {
      const { body } = await infer('churn', { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, operatorKey);
      expect(body.id).toMatch(/\S/);
    });

    it('"outputs" returns only the tensors asked for, in that order; an unknown one is a 400', async () => {
      const request = { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
      const { status, body } = await infer('churn', { ...request, outputs: [{ name: 'prediction_id' }, { name: 'label' }] }, operatorKey);
      expect(status).toBe(200);
      expect(body.outputs.map((o) => o.name)).toEqual(['prediction_id', 'label']);
      const unknown = await infer('churn', { ...request, outputs: [{ name: 'output0' }] }, operatorKey);
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({ code: 'unknown_output', error: expect.stringContaining('label, probabilities, prediction_id') as unknown });
    });

    it('numeric classes come back as INT64 numbers, with the class names on the probabilities tensor', async () => {
      const { status, body } = await infer('grade', { inputs: [{ name: 'features', shape: [2, 2], datatype: 'FP32', data: [3, 0, -3, 0] }] }, operatorKey);
      expect(status).toBe(200);
      expect(body.outputs[0]).toEqual({ name: 'label', datatype: 'INT64', shape: [2], data: [1, 3] });
      expect(body.outputs[1]).toMatchObject({ shape: [2, 3], parameters: { classes: '["1","2","3"]' } });
      expect((body.outputs[1]?.data as number[]).slice(0, 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    });

    it('a regressor answers value FP32 [n] in the target\'s units', async () => {
      const { status, body } = await infer(
        'price',
        {
          inputs: [
            { name: 'x1', shape: [2], datatype: 'FP32', data: [1, 0] },
            { name: 'x2', shape: [2], datatype: 'INT32', data: [0, 1] },
          ],
        },
        operatorKey,
      );
      expect(status).toBe(200);
      const [value] = body.outputs as [Tensor];
      expect(value).toMatchObject({ name: 'value', datatype: 'FP32', shape: [2] });
      expect((value.data as number[])[0]).toBeCloseTo((2 + 0.5) * 2 + 10, 4);
      expect((value.data as number[])[1]).toBeCloseTo((-1 + 0.5) * 2 + 10, 4);
    });

    it('/versions/{version}/infer answers from that version; a version the endpoint does not serve is a 404', async () => {
      const request = { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
      const res = await t.request('POST', '/v2/models/churn/versions/1/infer', { json: request, key: operatorKey });
      expect(res.status).toBe(200);
      expect(((await res.json()) as InferResponse).model_version).toBe('1');
      const missing = await t.request('POST', '/v2/models/churn/versions/3/infer', { json: request, key: operatorKey });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as V2Error).code).toBe('model_version_not_found');
    });
  });

  describe('inference errors: a 4xx with {"error": "<message>"} and our code', () => {
    const one = (name: string, extra: Partial<Tensor> = {}) => ({ name, shape: [1], datatype: 'FP32', data: [1], ...extra });
    const cases: [string, unknown, number, string, string][] = [
      ['shape and data disagree', { inputs: [one('tenure', { shape: [3] }), one('spend'), one('noise')] }, 400, 'tensor_shape_mismatch', 'shape [3]'],
      ['a datatype features cannot have', { inputs: [one('tenure', { datatype: 'BYTES', data: ['x'] }), one('spend'), one('noise')] }, 400, 'unsupported_datatype', 'BYTES'],
      ['a string in an FP32 tensor', { inputs: [one('tenure', { data: ['7'] }), one('spend'), one('noise')] }, 400, 'invalid_tensor_data', 'data[0] is "7"'],
      ['a fraction in an INT32 tensor', { inputs: [one('tenure', { datatype: 'INT32', data: [1.5] }), one('spend'), one('noise')] }, 400, 'invalid_tensor_data', 'whole numbers'],
      ['a negative number in a UINT32 tensor', { inputs: [one('tenure', { datatype: 'UINT32', data: [-1] }), one('spend'), one('noise')] }, 400, 'invalid_tensor_data', 'non-negative'],
      ['a feature without its tensor', { inputs: [one('tenure'), one('spend')] }, 400, 'missing_input', 'missing: noise'],
      ['a tensor the model does not take (the spec example\'s input0)', { inputs: [{ name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] }] }, 400, 'unknown_input', 'tenure, spend, noise'],
      ['feature tensors of different lengths', { inputs: [one('tenure'), one('spend', { shape: [2], data: [1, 2] }), one('noise')] }, 400, 'batch_size_mismatch', 'inputs[1]'],
      ['a feature tensor that is a matrix', { inputs: [one('tenure', { shape: [1, 2], data: [1, 2] }), one('spend'), one('noise')] }, 400, 'tensor_shape_mismatch', '[n] or [n, 1]'],
      ['a features matrix of the wrong width', { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] }, 400, 'tensor_shape_mismatch', '[n, 3]'],
      ['the same input twice', { inputs: [one('tenure'), one('tenure'), one('spend'), one('noise')] }, 400, 'duplicate_input', 'tenure'],
      ['zero rows', { inputs: [{ name: 'features', shape: [0, 3], datatype: 'FP32', data: [] }] }, 400, 'empty_batch', 'at least one'],
      ['no inputs', { inputs: [] }, 400, 'invalid_request', 'inputs'],
      ['a shape with a negative dimension', { inputs: [{ name: 'features', shape: [-1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, 400, 'invalid_request', 'inputs[0].shape'],
    ];
    it.each(cases)('%s', async (_what, body, status, code, mentions) => {
      const res = await infer('churn', body, operatorKey);
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(typeof res.body.error).toBe('string');
      expect(res.body.error).toContain(mentions);
    });

    it('a body that is not JSON is a 400 naming the fix', async () => {
      const res = await t.request('POST', '/v2/models/churn/infer', { body: '{"inputs": [', contentType: 'application/json', key: operatorKey });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'invalid_json', error: expect.stringContaining('JSON') as unknown });
    });

    it('more rows than a request may carry is a 400', async () => {
      const res = await infer('churn', { inputs: [{ name: 'features', shape: [1001, 3], datatype: 'FP32', data: new Array<number>(3003).fill(1) }] }, operatorKey);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('too_many_records');
    });

    it('an unknown model is a 404; a model with nothing deployed is a 409', async () => {
      const request = { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
      const unknown = await infer('mymodel', request, operatorKey);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('model_not_found');
      const empty = await infer('empty', request, operatorKey);
      expect(empty.status).toBe(409);
      expect(empty.body.code).toBe('endpoint_not_ready');
    });
  });

  describe('while a canary takes traffic', () => {
    it('metadata lists both versions; a versioned infer answers from that version on its own route, and the router splits the rest', async () => {
      const stable = await registerVersion(t, 'split', churn);
      const canary = await registerVersion(t, 'split', { ...churn, layers: [{ ...churn.layers[0]!, bias: [2] }] });
      await setEndpointTraffic(t, 'split', { stable: stable.id, canary: canary.id, canaryWeight: 10 });
      const meta = (await (await t.request('GET', '/v2/models/split', { key: viewerKey })).json()) as { versions: string[] };
      expect(meta.versions).toEqual(['1', '2']);
      const request = { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] };
      const pinnedInfer = async (version: string) => {
        const res = await t.request('POST', `/v2/models/split/versions/${version}/infer`, { json: request, key: operatorKey });
        expect(res.status).toBe(200);
        return (await res.json()) as InferResponse;
      };
      // The canary takes a tenth of the split, yet every request pinned to it is its own (and the stable's to the stable).
      const canaryAnswers = await Promise.all(Array.from({ length: 20 }, () => pinnedInfer('2')));
      expect(canaryAnswers.map((a) => [a.model_version, a.parameters?.route])).toEqual(Array.from({ length: 20 }, () => ['2', 'canary']));
      const stableAnswers = await Promise.all(Array.from({ length: 20 }, () => pinnedInfer('1')));
      expect(stableAnswers.map((a) => [a.model_version, a.parameters?.route])).toEqual(Array.from({ length: 20 }, () => ['1', 'stable']));
      // Logged on the pinned version's route, where its rollout gates read them.
      const ids = canaryAnswers.flatMap((a) => (a.outputs.find((o) => o.name === 'prediction_id')?.data ?? []) as string[]);
      expect(ids).toHaveLength(20);
      const logged = await t.database.db.select().from(predictions).where(inArray(predictions.id, ids));
      expect(logged.every((r) => r.route === 'canary' && r.modelVersionId === canary.id)).toBe(true);
      expect(logged).toHaveLength(20);
      const gone = await t.request('POST', '/v2/models/split/versions/3/infer', { json: request, key: operatorKey });
      expect(gone.status).toBe(404);
    });
  });
});
