import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { bootstrapProject } from '../../db/queries/projects';
import { modelPolicyHistory, readModelPolicy, writeModelPolicy } from '../../db/queries/model-policies';
import { models } from '../../db/schema';
import type { ModelPolicy } from '../../domain/model-policy';

const approval: ModelPolicy = {
  promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 0.01 }], requireApproval: true, approvalTimeoutMs: 86_400_000 },
  rollout: { strategy: { type: 'canary', steps: [{ weight: 10, bakeSeconds: 60 }, { weight: 100, bakeSeconds: 0 }] }, gates: { errorRate: 0.01 } },
  slices: ['region'],
  fairness: null,
};

describe('model policies', () => {
  let database: DatabaseHandle;
  let projectId: string;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
    ({ projectId } = await bootstrapProject(database.db, { projectName: `policy-${randomUUID().slice(0, 8)}` }));
  });
  afterAll(async () => {
    await database?.close();
  });

  async function newModel(): Promise<string> {
    const id = `mdl_${randomUUID().replaceAll('-', '')}`;
    await database.db.insert(models).values({ id, projectId, name: `m-${id.slice(4, 12)}` });
    return id;
  }

  it('reads the empty policy until one is stored, then versions each change and keeps the same policy as one version', async () => {
    const modelId = await newModel();
    expect(await readModelPolicy(database.db, modelId)).toMatchObject({ source: 'none', version: null, policy: { promotion: null, rollout: null } });

    expect(await writeModelPolicy(database.db, { projectId, modelId, endpointId: null, policy: approval, actor: 'workflow:p1', reason: 'set by pipeline p1' })).toEqual({ version: 1, changed: true });
    // The same policy, keys in another order: no new version.
    const reordered: ModelPolicy = { fairness: null, slices: ['region'], rollout: approval.rollout, promotion: approval.promotion };
    expect(await writeModelPolicy(database.db, { projectId, modelId, endpointId: null, policy: reordered, actor: 'workflow:p2', reason: 'again' })).toEqual({ version: 1, changed: false });
    const relaxed: ModelPolicy = { ...approval, promotion: { thresholds: [], requireApproval: false, approvalTimeoutMs: 0 } };
    expect(await writeModelPolicy(database.db, { projectId, modelId, endpointId: null, policy: relaxed, actor: 'key_1', reason: 'relax' })).toEqual({ version: 2, changed: true });

    expect(await readModelPolicy(database.db, modelId)).toMatchObject({ source: 'model', version: 2, policy: { promotion: { requireApproval: false } } });
    expect((await modelPolicyHistory(database.db, modelId)).map((r) => [r.version, r.changedBy, r.reason])).toEqual([
      [2, 'key_1', 'relax'],
      [1, 'workflow:p1', 'set by pipeline p1'],
    ]);
  });

  it("an endpoint's override wins on that endpoint only", async () => {
    const modelId = await newModel();
    await writeModelPolicy(database.db, { projectId, modelId, endpointId: null, policy: approval, actor: 'key_1', reason: 'model default' });
    const noApproval: ModelPolicy = { ...approval, promotion: { thresholds: [], requireApproval: false, approvalTimeoutMs: 0 } };
    await writeModelPolicy(database.db, { projectId, modelId, endpointId: 'ep_staging', policy: noApproval, actor: 'key_1', reason: 'staging needs no approval' });
    expect(await readModelPolicy(database.db, modelId, 'ep_staging')).toMatchObject({ source: 'endpoint', version: 1, policy: { promotion: { requireApproval: false } } });
    expect(await readModelPolicy(database.db, modelId, 'ep_prod')).toMatchObject({ source: 'model', version: 1, policy: { promotion: { requireApproval: true } } });
  });
});
