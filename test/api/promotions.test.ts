import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAliasHistory } from '../../db/queries/aliases';
import { auditLog, models, modelVersions } from '../../db/schema';
import { recordHistory } from '../support/record-history';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface ErrorBody {
  error: { code: string; message: string; workflowId?: string };
}

/** Promotions through the real API and Temporal: bad input, a race for one alias, and every way an approval can go. */
describe('promoting a model version to an alias', () => {
  let t: TestFactory;
  let approverKey: string;
  let secondApproverKey: string;
  let viewerKey: string;
  let operatorKey: string;
  let modelId: string;
  const versionIds: Record<number, string> = {};

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    [approverKey, secondApproverKey, viewerKey, operatorKey] = await Promise.all([t.createKey('approver'), t.createKey('approver'), t.createKey('viewer'), t.createKey('operator')]);
    expect((await t.request('POST', '/v1/datasets/churn/versions?wait=true', { body: toCsv(churnRows(300)), contentType: 'text/csv' })).status).toBe(201);
    // Two registered versions of model "churn"; the second pipeline deployed v2, so v2 holds production.
    for (const seed of [1, 2]) {
      const start = await t.request('POST', '/v1/pipelines', {
        json: { dataset: 'churn', target: 'churned', model: { type: 'logistic', epochs: 5, learningRate: 0.1, seed }, endpoint: 'churn' },
      });
      expect(start.status).toBe(202);
      const final = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
      expect(final.status).toBe('COMPLETED');
    }
    const [model] = await t.database.db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'churn')));
    modelId = model?.id ?? '';
    for (const v of await t.database.db.select().from(modelVersions).where(eq(modelVersions.modelId, modelId))) versionIds[v.version] = v.id;
    expect(Object.keys(versionIds)).toEqual(['1', '2']);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  const promote = (alias: string, json: unknown, key?: string) => t.request('POST', `/v1/models/churn/aliases/${alias}`, { json, ...(key && { key }) });
  const decide = (workflowId: string, json: unknown, key: string | undefined = approverKey) =>
    t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json, ...(key && { key }) });
  const code = async (res: Response) => ((await res.json()) as ErrorBody).error.code;
  const audit = (action: string) =>
    t.database.db.select().from(auditLog).where(and(eq(auditLog.projectId, t.projectId), eq(auditLog.action, action)));

  it('refuses what it cannot promote: unknown model or version 404, unknown alias 422, bad timeout 422, viewer 403', async () => {
    const missingModel = await t.request('POST', '/v1/models/nope/aliases/production', { json: { version: 1, reason: 'x' } });
    expect([missingModel.status, await code(missingModel)]).toEqual([404, 'model_not_found']);
    const missingVersion = await promote('production', { version: 99, reason: 'x' });
    expect([missingVersion.status, await code(missingVersion)]).toEqual([404, 'model_version_not_found']);
    const alias = await promote('prod', { version: 1, reason: 'x' });
    expect([alias.status, await code(alias)]).toEqual([422, 'unknown_alias']);
    const timeout = await promote('staging', { version: 1, reason: 'x', requireApproval: true, approvalTimeout: 'soon' });
    expect([timeout.status, await code(timeout)]).toEqual([422, 'invalid_duration']);
    const noReason = await promote('staging', { version: 1 });
    expect([noReason.status, await code(noReason)]).toEqual([422, 'invalid_request']);
    const viewer = await promote('staging', { version: 1, reason: 'x' }, viewerKey);
    expect([viewer.status, await code(viewer)]).toEqual([403, 'forbidden']);
  });

  it('two concurrent promotions of production: exactly one 202, the other 409 with its id, both audited; then approved by another key', async () => {
    const [a, b] = await Promise.all([
      promote('production', { version: 1, reason: 'roll back to v1', requireApproval: true, approvalTimeout: '10m' }),
      promote('production', { version: 1, reason: 'roll back to v1, again', requireApproval: true, approvalTimeout: '10m' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [won, lost] = a.status === 202 ? [a, b] : [b, a];
    const { workflowId } = (await won.json()) as { workflowId: string };
    expect(await lost.json()).toMatchObject({ error: { code: 'promotion_in_progress', workflowId } });
    expect((await audit('promotion.requested')).filter((r) => r.details.alias === 'production')).toHaveLength(1);
    expect((await audit('promotion.refused')).filter((r) => r.details.alias === 'production')).toHaveLength(1);

    const status = ((await (await t.request('GET', `/v1/workflows/${workflowId}`)).json()) as { progress: { waitingSince: string; requestedBy: string } }).progress;
    expect(status).toMatchObject({ state: 'waiting_for_approval', version: 1, alias: 'production', decision: null });
    expect(status.waitingSince).toEqual(expect.any(String));
    // What the Temporal UI shows as the workflow's current details.
    const metadata = await t.factory.client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toBe(`waiting for approval since ${status.waitingSince} to make churn v1 production (requested by ${status.requestedBy})`);

    const viewer = await decide(workflowId, { decision: 'approve', reason: 'lgtm' }, viewerKey);
    expect([viewer.status, await code(viewer)]).toEqual([403, 'forbidden']);
    const operator = await decide(workflowId, { decision: 'approve', reason: 'lgtm' }, operatorKey);
    expect([operator.status, await code(operator)]).toEqual([403, 'forbidden']);
    const own = await decide(workflowId, { decision: 'approve', reason: 'my own' }, t.adminKey);
    expect([own.status, await code(own)]).toEqual([403, 'cannot_approve_own_model']);
    const bad = await decide(workflowId, { decision: 'maybe', reason: 'hmm' });
    expect([bad.status, await code(bad)]).toEqual([422, 'invalid_request']);

    // Two approvers decide at once: the validator lets exactly one in.
    const [first, second] = await Promise.all([
      decide(workflowId, { decision: 'approve', reason: 'v2 misroutes refunds' }),
      decide(workflowId, { decision: 'approve', reason: 'v2 misroutes refunds (second look)' }, secondApproverKey),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    expect(await code(first.status === 409 ? first : second)).toBe('not_waiting_for_approval');

    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    const result = final.result as { promoted: boolean; decision: { by: string }; fromVersionId: string; toVersionId: string };
    expect(result).toMatchObject({ promoted: true, fromVersionId: versionIds[2], toVersionId: versionIds[1] });
    const [move] = await listAliasHistory(t.database.db, modelId, 'production');
    expect(move).toMatchObject({ fromVersionId: versionIds[2], toVersionId: versionIds[1], workflowId, actor: result.decision.by });
    const [v1] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.id, versionIds[1] ?? ''));
    expect(v1?.approval).toMatchObject({ decision: 'approved', alias: 'production', workflowId, by: result.decision.by });
    expect((await audit('promotion.approved')).some((r) => r.subjectId === versionIds[1] && r.actor === result.decision.by)).toBe(true);
    await recordHistory(workflowId, 'promote-model-approved.json');
    await recordHistory(workflowId, 'promote-model-approved-with-events.json');

    const finished = await decide(workflowId, { decision: 'approve', reason: 'again' });
    expect([finished.status, await code(finished)]).toEqual([409, 'not_waiting_for_approval']);
  });

  it('approval required, rejected: no move, the decision on the version and in the audit log', async () => {
    const start = await promote('staging', { version: 1, reason: 'try v1 in staging', requireApproval: true }, operatorKey);
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const decided = await decide(workflowId, { decision: 'reject', reason: 'not for staging' });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ decision: { decision: 'rejected', reason: 'not for staging' } });
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ promoted: false, decision: { decision: 'rejected', reason: 'not for staging' }, fromVersionId: null });
    expect(await listAliasHistory(t.database.db, modelId, 'staging')).toEqual([]);
    const [v1] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.id, versionIds[1] ?? ''));
    expect(v1?.approval).toMatchObject({ decision: 'rejected', alias: 'staging', reason: 'not for staging' });
    expect((await audit('promotion.rejected')).some((r) => r.subjectId === versionIds[1] && r.details.reason === 'not for staging')).toBe(true);
  });

  it('approval required, nobody decides before the timeout: rejected', async () => {
    const start = await promote('challenger', { version: 1, reason: 'shadow it', requireApproval: true, approvalTimeout: '2s' });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ promoted: false, decision: { decision: 'rejected', by: 'timeout' } });
    expect(await listAliasHistory(t.database.db, modelId, 'challenger')).toEqual([]);
    await recordHistory(workflowId, 'promote-model-timed-out.json');
  });

  it('no approval required: the alias moves at once, and a decision sent to it is a 409', async () => {
    const start = await promote('challenger', { version: 2, reason: 'shadow v2' });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const final = await waitForWorkflow(t, workflowId);
    expect(final.result).toMatchObject({ promoted: true, toVersionId: versionIds[2] });
    const [move] = await listAliasHistory(t.database.db, modelId, 'challenger');
    expect(move).toMatchObject({ toVersionId: versionIds[2], reason: expect.stringContaining('shadow v2') as unknown });
    const late = await decide(workflowId, { decision: 'approve', reason: 'late' });
    expect([late.status, await code(late)]).toEqual([409, 'not_waiting_for_approval']);
  });

  it('an approver reads and decides, nothing else', async () => {
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn', target: 'churned', model: { type: 'logistic' }, endpoint: 'churn' }, key: approverKey });
    expect([start.status, await code(start)]).toEqual([403, 'forbidden']);
    const promotion = await promote('staging', { version: 1, reason: 'x' }, approverKey);
    expect([promotion.status, await code(promotion)]).toEqual([403, 'forbidden']);
    const keys = await t.request('POST', '/v1/api-keys', { json: { name: 'x', role: 'viewer' }, key: approverKey });
    expect(keys.status).toBe(403);
    expect((await t.request('GET', '/v1/workflows', { key: approverKey })).status).toBe(200);
  });

  it('with an Idempotency-Key a repeated request gets the first answer, not a 409', async () => {
    const send = () =>
      t.factory.app.request('/v1/models/churn/aliases/staging', {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json', 'idempotency-key': 'promote-staging-once' },
        body: JSON.stringify({ version: 2, reason: 'staging v2', requireApproval: true }),
      });
    const first = await send();
    expect(first.status).toBe(202);
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const { workflowId, runId } = (await first.json()) as { workflowId: string; runId: string };
    expect(await again.json()).toMatchObject({ workflowId, runId });
    expect((await decide(workflowId, { decision: 'reject', reason: 'only testing keys' })).status).toBe(200);
  });
});
