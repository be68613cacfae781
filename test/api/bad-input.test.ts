import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_BODY_BYTES } from '../../api/app';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.message.length).toBeGreaterThan(20);
  return body.error;
}

const UPLOAD_LIMIT = 64 * 1024;

describe('bad input gets a clear 4xx and leaves nothing behind', () => {
  let t: TestFactory;
  // Waits for the ingest so a bad CSV's typed error comes back on the upload itself.
  const upload = (name: string, body: RequestInit['body'], contentType = 'text/csv') => t.request('POST', `/v1/datasets/${name}/versions?wait=true`, { body, contentType });

  beforeAll(async () => {
    t = await startTestFactory({ maxUploadBytes: UPLOAD_LIMIT });
    const ok = await upload('people', 'age,income,city,label\n30,100,paris,1\n40,200,rome,0\n50,300,oslo,2\n');
    expect(ok.status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  describe('API keys', () => {
    it('rejects a missing key', async () => {
      await expectError(await t.request('GET', '/v1/datasets', { key: null }), 401, 'missing_api_key');
    });
    it('rejects a wrong key', async () => {
      await expectError(await t.request('GET', '/v1/datasets', { key: 'afk_not-a-real-key' }), 401, 'invalid_api_key');
    });
    it('lets a viewer read but not ingest', async () => {
      const viewer = await t.createKey('viewer');
      expect((await t.request('GET', '/v1/datasets', { key: viewer })).status).toBe(200);
      const err = await expectError(await t.request('POST', '/v1/datasets/x/versions', { key: viewer, body: 'a\n1\n', contentType: 'text/csv' }), 403, 'forbidden');
      expect(err.message).toContain('operator');
    });
    it('lets an admin issue, list and revoke keys, and nobody else', async () => {
      const operator = await t.createKey('operator');
      await expectError(await t.request('POST', '/v1/api-keys', { key: operator, json: { name: 'ci', role: 'viewer' } }), 403, 'forbidden');
      const created = await t.request('POST', '/v1/api-keys', { json: { name: 'dashboard', owner: 'dana@example.com', role: 'viewer' } });
      expect(created.status).toBe(201);
      const { id, key } = (await created.json()) as { id: string; key: string };
      expect((await t.request('GET', '/v1/datasets', { key })).status).toBe(200);
      const listed = (await (await t.request('GET', '/v1/api-keys')).json()) as { keys: { id: string; prefix: string }[] };
      expect(JSON.stringify(listed)).not.toContain(key);
      expect(listed.keys.find((k) => k.id === id)?.prefix).toBe(key.slice(0, 10));
      expect((await t.request('DELETE', `/v1/api-keys/${id}`)).status).toBe(204);
      await expectError(await t.request('GET', '/v1/datasets', { key }), 401, 'invalid_api_key');
      await expectError(await t.request('POST', '/v1/api-keys', { json: { name: 'x', role: 'root' } }), 422, 'invalid_request');
    });
    it('leaves /healthz open', async () => {
      expect((await t.request('GET', '/healthz', { key: null })).status).toBe(200);
    });
  });

  describe('CSV uploads', () => {
    it('empty CSV', async () => {
      await expectError(await upload('bad', ''), 422, 'empty_csv');
    });
    it('header only', async () => {
      await expectError(await upload('bad', 'a,b\n'), 422, 'no_data_rows');
    });
    it('no header', async () => {
      await expectError(await upload('bad', '1,2,3\n4,5,6\n'), 422, 'missing_header');
    });
    it('ragged row names the row and line', async () => {
      const err = await expectError(await upload('bad', 'a,b,c\n1,2,3\n4,5\n'), 422, 'ragged_row');
      expect(err).toMatchObject({ row: 2, line: 3, expected: 3, actual: 2 });
    });
    it('a non-numeric value in a numeric column names the row and column', async () => {
      const csv = 'age,score\n' + Array.from({ length: 20 }, (_, i) => `${20 + i},${i}`).join('\n') + '\nforty,3\n';
      const err = await expectError(await upload('bad', csv), 422, 'non_numeric_value');
      expect(err).toMatchObject({ column: 'age', row: 21, value: 'forty' });
      expect(err.message).toContain('age');
    });
    it('binary content', async () => {
      await expectError(await upload('bad', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x01])), 415, 'not_csv');
    });
    it('a body over the limit, declared or streamed', async () => {
      const big = 'a,b\n' + '1,2\n'.repeat(UPLOAD_LIMIT / 4 + 10);
      await expectError(await upload('bad', big), 413, 'payload_too_large');
      const stream = new Blob([big]).stream();
      const init = { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'text/csv' }, body: stream, duplex: 'half' as const };
      const res = await t.factory.app.request('/v1/datasets/bad/versions?wait=true', init);
      await expectError(res, 413, 'payload_too_large');
    });
    it('without ?wait=true a bad CSV is accepted at once and its typed error comes from the workflow status', async () => {
      const res = await t.request('POST', '/v1/datasets/bad/versions', { body: 'a,b,c\n1,2,3\n4,5\n', contentType: 'text/csv' });
      expect(res.status).toBe(202);
      const { workflowId } = (await res.json()) as { workflowId: string };
      expect(res.headers.get('location')).toBe(`/v1/workflows/${encodeURIComponent(workflowId)}`);
      const final = await waitForWorkflow(t, workflowId);
      expect(final).toMatchObject({ status: 'FAILED', type: 'ingestDataset', error: { code: 'ragged_row', row: 2, line: 3 } });
    });
    it('?wait= takes only true or false', async () => {
      await expectError(await t.request('POST', '/v1/datasets/bad/versions?wait=yes', { body: 'a\n1\n', contentType: 'text/csv' }), 400, 'invalid_query_parameter');
    });
    it('a wrong content type', async () => {
      await expectError(await upload('bad', '{}', 'application/json'), 415, 'unsupported_media_type');
    });
    it('an unsafe dataset name', async () => {
      await expectError(await upload('..%2F..%2Fetc', 'a\n1\n'), 400, 'invalid_name');
    });
    it('a failed ingest leaves no dataset version behind', async () => {
      await expectError(await t.request('GET', '/v1/datasets/bad/versions'), 404, 'dataset_not_found');
    });
  });

  describe('pipelines', () => {
    const pipeline = (overrides: Record<string, unknown>) =>
      t.request('POST', '/v1/pipelines', { json: { dataset: 'people', target: 'label', model: { type: 'logistic' }, endpoint: 'people', ...overrides } });

    it('a dataset that does not exist', async () => {
      await expectError(await pipeline({ dataset: 'nope' }), 404, 'dataset_not_found');
    });
    it('a dataset version that does not exist', async () => {
      await expectError(await pipeline({ dataset: { name: 'people', version: 9 } }), 404, 'dataset_version_not_found');
    });
    it('an unknown target column names it and lists the columns', async () => {
      const err = await expectError(await pipeline({ target: 'lable' }), 422, 'unknown_target_column');
      expect(err.message).toContain('lable');
      expect(err.message).toContain('age, income, city, label');
    });
    it('an unknown or non-numeric feature', async () => {
      expect(await expectError(await pipeline({ features: ['age', 'wealth'] }), 422, 'unknown_feature')).toMatchObject({ column: 'wealth' });
      expect(await expectError(await pipeline({ features: ['city'] }), 422, 'non_numeric_feature')).toMatchObject({ column: 'city' });
    });
    it('an invalid model spec names the field', async () => {
      expect(await expectError(await pipeline({ model: { type: 'forest' } }), 422, 'invalid_request')).toMatchObject({ field: 'model.type' });
      expect(await expectError(await pipeline({ model: { type: 'mlp', epochs: 0 } }), 422, 'invalid_request')).toMatchObject({ field: 'model.epochs' });
    });
    it('a body that is not JSON', async () => {
      await expectError(await t.request('POST', '/v1/pipelines', { body: '{nope', contentType: 'application/json' }), 400, 'invalid_json');
    });
    it('a JSON body over the limit', async () => {
      const res = await t.request('POST', '/v1/pipelines', { body: JSON.stringify({ pad: 'x'.repeat(MAX_JSON_BODY_BYTES) }), contentType: 'application/json' });
      await expectError(res, 413, 'payload_too_large');
    });
    it('a task that does not fit the target or the model type', async () => {
      expect(await expectError(await pipeline({ target: 'city', task: 'regression', features: ['age'] }), 422, 'regression_target_not_numeric')).toMatchObject({ column: 'city' });
      expect(await expectError(await pipeline({ task: 'regression' }), 422, 'model_type_not_for_task')).toMatchObject({ field: 'model.type', task: 'regression' });
      const inferred = await expectError(await pipeline({ model: { type: 'linear' } }), 422, 'model_type_not_for_task');
      expect(inferred.message).toContain('3 distinct whole numbers');
      expect(await expectError(await pipeline({ task: 'ranking' }), 422, 'invalid_request')).toMatchObject({ field: 'task' });
    });
    it('too few complete rows fails the workflow with a typed, non-retried reason', async () => {
      const start = await pipeline({});
      expect(start.status).toBe(202);
      const { workflowId, task } = (await start.json()) as { workflowId: string; task: unknown };
      expect(task).toEqual({ task: 'classification', reason: expect.stringContaining('"label" holds 3 distinct whole numbers') as unknown });
      const final = await waitForWorkflow(t, workflowId);
      expect(final.status).toBe('FAILED');
      expect(final.error).toMatchObject({ code: 'too_few_rows', rows: 3 });
      expect(final.progress).toMatchObject({ stage: 'failed', error: expect.stringMatching(/^train: Only 3 rows/) as unknown });
    });
  });

  describe('lookups', () => {
    it('an endpoint that does not exist', async () => {
      await expectError(await t.request('POST', '/v1/endpoints/nope/predict', { json: { records: [{ a: 1 }] } }), 404, 'endpoint_not_found');
    });
    it('a workflow that does not exist', async () => {
      await expectError(await t.request('GET', '/v1/workflows/nope'), 404, 'workflow_not_found');
    });
    it('a route that does not exist', async () => {
      await expectError(await t.request('GET', '/v1/nothing'), 404, 'route_not_found');
    });
  });
});
