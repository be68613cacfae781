import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveAlias } from '../../db/queries/aliases';
import { modelAliases, models } from '../../db/schema';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface VersionBody {
  version: number;
  id: string;
  aliases: string[];
  blessing: { decision: string; reasons: string[] } | string;
  evaluation: { task?: string; accuracy?: number };
  lineage: { trainingRunId: string; codeVersion: string; dataset: { name: string; version: number }; workflows: Record<string, string | null> } | null;
  failure: unknown;
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** The registry through the API: two pipelines register churn v1 and v2; every read a viewer makes. */
describe('model registry', () => {
  let t: TestFactory;
  let viewer: string;
  const pipelines: string[] = [];

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    viewer = await t.createKey('viewer');
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(200)), contentType: 'text/csv' })).status).toBe(201);
    // v1 barely trained, so v2 beats it on the held-out rows and the default policy (no worse than the champion) blesses it.
    for (const [seed, epochs, learningRate] of [
      [1, 1, 0.001],
      [2, 15, 0.1],
    ]) {
      const start = await t.request('POST', '/v1/pipelines', {
        json: { dataset: 'churn', target: 'churned', features: ['tenure', 'spend'], model: { type: 'logistic', epochs, learningRate, seed }, endpoint: 'registry-churn', registeredModel: 'churn' },
      });
      expect(start.status).toBe(202);
      const { workflowId } = (await start.json()) as { workflowId: string };
      expect((await waitForWorkflow(t, workflowId)).status).toBe('COMPLETED');
      pipelines.push(workflowId);
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('lists models with their latest version and aliases', async () => {
    const res = await t.request('GET', '/v1/models', { key: viewer });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ models: [{ name: 'churn', latestVersion: 2, aliases: { production: 2 } }] });
  });

  it('pages versions newest first', async () => {
    const first = (await (await t.request('GET', '/v1/models/churn/versions?limit=1', { key: viewer })).json()) as { versions: VersionBody[]; nextCursor: string | null };
    expect(first.versions.map((v) => [v.version, v.aliases])).toEqual([[2, ['production']]]);
    expect(first.nextCursor).toBe('2');
    const second = (await (await t.request('GET', `/v1/models/churn/versions?limit=1&cursor=${first.nextCursor}`, { key: viewer })).json()) as {
      versions: VersionBody[];
      nextCursor: string | null;
    };
    expect(second.versions.map((v) => [v.version, v.aliases])).toEqual([[1, []]]);
    expect(second.nextCursor).toBeNull();
    expect(await errorCode(await t.request('GET', '/v1/models/churn/versions?limit=0', { key: viewer }))).toBe('invalid_limit');
    expect(await errorCode(await t.request('GET', '/v1/models/churn/versions?cursor=x', { key: viewer }))).toBe('invalid_cursor');
  });

  it('shows a version with evaluation, blessing, lineage and the aliases it holds', async () => {
    const res = await t.request('GET', '/v1/models/churn/versions/2', { key: viewer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as VersionBody;
    expect(body).toMatchObject({ version: 2, aliases: ['production'], failure: null, evaluation: { task: 'classification' }, blessing: { decision: 'blessed' } });
    const pipeline = pipelines[1] ?? '';
    expect(body.lineage).toMatchObject({
      dataset: { name: 'churn', version: 1 },
      workflows: { pipeline, train: `${pipeline}/train`, export: `${pipeline}/export`, evaluate: `${pipeline}/evaluate`, register: `${pipeline}/register` },
    });
    expect(body.lineage?.codeVersion).toBeTruthy();
  });

  it('serves the model card as Markdown, or JSON when Accept asks', async () => {
    const md = await t.request('GET', '/v1/models/churn/versions/1/card', { key: viewer });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
    const text = await md.text();
    expect(text.split('\n')[0]).toBe('# Model card: churn v1');
    expect(text).toContain('## Limitations');
    expect(text).toContain(`- pipeline workflow: \`${pipelines[0]}\``);

    const json = await t.factory.app.request('/v1/models/churn/versions/1/card', { headers: { authorization: `Bearer ${viewer}`, accept: 'application/json' } });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toMatchObject({ model: 'churn', version: 1, task: 'binary classification', data: { dataset: 'churn', datasetVersion: 1, rows: 200 } });
  });

  it('lists an alias history newest first with version numbers, who, why and which workflow', async () => {
    const res = await t.request('GET', '/v1/models/churn/aliases/production/history', { key: viewer });
    expect(res.status).toBe(200);
    const { history } = (await res.json()) as { history: { from: { version: number } | null; to: { version: number }; actor: string; reason: string; workflowId: string }[] };
    expect(history.map((h) => [h.from?.version ?? null, h.to.version])).toEqual([
      [1, 2],
      [null, 1],
    ]);
    // The pipeline's deploy stage hands over to the endpoint's controller, which moves the alias for the pipeline.
    expect(history[0]?.workflowId).toBe(pipelines[1]);
    expect(history[0]?.actor).toBe(`workflow:${pipelines[1]}`);
    expect(history[0]?.reason).toContain('passed evaluation');
  });

  it('answers unknown names with clear codes', async () => {
    const cases: [string, number, string][] = [
      ['/v1/models/nope/versions', 404, 'model_not_found'],
      ['/v1/models/churn/versions/99', 404, 'model_version_not_found'],
      ['/v1/models/churn/versions/one', 400, 'invalid_model_version'],
      ['/v1/models/churn/versions/99/card', 404, 'model_version_not_found'],
      ['/v1/models/churn/aliases/prod/history', 404, 'unknown_alias'],
      ['/v1/models/nope/aliases/production/history', 404, 'model_not_found'],
    ];
    for (const [path, status, code] of cases) {
      const res = await t.request('GET', path, { key: viewer });
      expect([path, res.status, await errorCode(res)]).toEqual([path, status, code]);
    }
  });

  it('concurrent moves of one alias commit one after the other with a consistent history', async () => {
    const db = t.database.db;
    const [model] = await db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'churn')));
    const versions = (await (await t.request('GET', '/v1/models/churn/versions')).json()) as { versions: VersionBody[] };
    const ids = versions.versions.map((v) => v.id);
    if (!model || ids.length !== 2) throw new Error('setup did not register two versions');

    let holders = 0;
    let sampling = true;
    // Watches the alias while the moves race: never more than one version holds it.
    const sampler = (async () => {
      while (sampling) {
        const [row] = await db.select({ n: count() }).from(modelAliases).where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, 'staging')));
        holders = Math.max(holders, row?.n ?? 0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Round 0 races the very first move, when there is no alias row yet to lock.
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        ids.map((toVersionId, i) =>
          moveAlias(db, {
            projectId: t.projectId,
            modelId: model.id,
            alias: 'staging',
            toVersionId,
            actor: `test:${i}`,
            reason: `round ${round}`,
            workflowId: null,
            idempotencyKey: `race-${round}-${i}`,
          }),
        ),
      );
      expect(results.every((r) => r.moved)).toBe(true);
    }
    sampling = false;
    await sampler;
    expect(holders).toBe(1);

    const res = await t.request('GET', '/v1/models/churn/aliases/staging/history');
    const { history } = (await res.json()) as { history: { from: { id: string } | null; to: { id: string } }[] };
    expect(history).toHaveLength(20);
    const oldestFirst = [...history].reverse();
    expect(oldestFirst[0]?.from).toBeNull();
    for (let i = 1; i < oldestFirst.length; i++) expect(oldestFirst[i]?.from?.id).toBe(oldestFirst[i - 1]?.to.id);
    const [holder] = await db.select().from(modelAliases).where(and(eq(modelAliases.modelId, model.id), eq(modelAliases.alias, 'staging')));
    expect(holder?.modelVersionId).toBe(history[0]?.to.id);
  });
});
