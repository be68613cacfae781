import { WithStartWorkflowOperation, WorkflowFailedError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModelPolicy } from '../../db/queries/model-policies';
import { auditLog, models } from '../../db/schema';
import { EMPTY_MODEL_POLICY } from '../../domain/model-policy';
import type { Blessing } from '../../domain/model';
import { exportOnnx } from '../../ml/onnx-export';
import { deployModel, endpointController } from '../../workflows';
import { deployUpdate, endpointControllerStartOptions } from '../../workflows/contracts';
import { CANDIDATE_FEATURES, registerCandidate, type CandidateSpec } from '../support/candidate-models';
import { goodClassifier } from '../support/onnx-graphs';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface ErrorBody {
  error: { code: string; message: string };
}

interface EndpointView {
  stable: { version: number } | null;
  rollout: { rolloutId: string; status: string; outcome?: string | null; failure?: string | null; reason?: string } | null;
  overrides: { by: string; owner: string; reason: string; modelVersionId: string }[];
  events: { kind: string; reason: string; toVersion: { version: number } | null }[];
}

const REJECTED: Blessing = { decision: 'rejected', thresholds: { minAccuracy: 0.95 }, champion: null, reasons: ['accuracy 0.9000 is below the threshold 0.95'] };

/** The serving guard through the real API, Temporal and database: no unexamined version serves or takes production without an audited admin override. */
describe('serving guard: blessed, infra-validated and approved, or an audited override', () => {
  let t: TestFactory;
  let operatorKey: string;
  let approverKey: string;
  let modelId: string;
  const v = { good: 0, rejected: 0, infraFailed: 0, neverValidated: 0, needsApproval: 0 };

  const register = async (bias: number, extra: Partial<CandidateSpec> = {}) =>
    (await registerCandidate(t, exportOnnx(goodClassifier(bias)), { model: 'guarded', features: CANDIDATE_FEATURES, ...extra })).version;

  beforeAll(async () => {
    t = await startTestFactory();
    [operatorKey, approverKey] = await Promise.all([t.createKey('operator'), t.createKey('approver')]);
    v.good = await register(0.1);
    v.rejected = await register(0.2, { blessing: REJECTED });
    v.infraFailed = await register(0.3, { infraValidation: { passed: false, reason: 'non_finite_output', message: 'NaN on sample row 0', at: new Date().toISOString() } });
    v.neverValidated = await register(0.4, { infraValidation: null });
    v.needsApproval = await register(0.5);
    const [model] = await t.database.db.select().from(models).where(and(eq(models.projectId, t.projectId), eq(models.name, 'guarded')));
    modelId = model?.id ?? '';
  });
  afterAll(async () => {
    await t?.stop();
  });

  const rollout = (json: Record<string, unknown>, key?: string) => t.request('POST', '/v1/endpoints/guarded/rollouts', { json: { model: 'guarded', ...json }, ...(key && { key }) });
  const promote = (json: Record<string, unknown>, key?: string) => t.request('POST', '/v1/models/guarded/aliases/production', { json, ...(key && { key }) });
  const refusal = async (res: Response) => [res.status, ((await res.json()) as ErrorBody).error.code];
  const show = async (): Promise<EndpointView> => (await (await t.request('GET', '/v1/endpoints/guarded')).json()) as EndpointView;
  async function untilRolloutEnds(rolloutId: string): Promise<EndpointView> {
    for (let i = 0; i < 200; i++) {
      const view = await show();
      if (view.rollout?.rolloutId === rolloutId && !['pending', 'simulating', 'running', 'paused'].includes(view.rollout.status)) return view;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`rollout ${rolloutId} did not end`);
  }
  const started = async (res: Response): Promise<string> => {
    expect(res.status).toBe(202);
    return ((await res.json()) as { rolloutId: string }).rolloutId;
  };

  it('refuses an unblessed, infra-failed or never infra-validated version with a 409 naming what is missing, on rollouts and on production', async () => {
    const unblessed = await rollout({ version: v.rejected, strategy: 'allAtOnce' });
    expect(unblessed.status).toBe(409);
    const body = (await unblessed.json()) as ErrorBody;
    expect(body.error.code).toBe('version_not_blessed');
    expect(body.error.message).toContain('guarded v2 is not blessed (accuracy 0.9000 is below the threshold 0.95)');
    expect(await refusal(await rollout({ version: v.rejected, strategy: 'shadow', bakeSeconds: 1 }))).toEqual([409, 'version_not_blessed']);
    expect(await refusal(await rollout({ version: v.infraFailed, strategy: 'allAtOnce' }))).toEqual([409, 'infra_validation_failed']);
    expect(await refusal(await rollout({ version: v.neverValidated, strategy: 'allAtOnce' }))).toEqual([409, 'infra_validation_missing']);
    expect(await refusal(await promote({ version: v.rejected, reason: 'ship it', requireApproval: false }))).toEqual([409, 'version_not_blessed']);
    expect(await refusal(await promote({ version: v.infraFailed, reason: 'ship it' }))).toEqual([409, 'infra_validation_failed']);
    // Nothing serves yet: the refused rollouts started nothing.
    expect((await t.request('GET', '/v1/endpoints/guarded')).status).toBe(404);
  });

  it('a blessed, infra-validated version rolls out all at once', async () => {
    const view = await untilRolloutEnds(await started(await rollout({ version: v.good, strategy: 'allAtOnce' })));
    expect(view).toMatchObject({ stable: { version: v.good }, rollout: { status: 'succeeded' }, overrides: [] });
  });

  it('an override is for admins only: an operator gets 403', async () => {
    expect(await refusal(await rollout({ version: v.rejected, strategy: 'allAtOnce', override: { reason: 'hotfix' } }, operatorKey))).toEqual([403, 'override_forbidden']);
    expect(await refusal(await promote({ version: v.rejected, reason: 'hotfix', override: { reason: 'hotfix' } }, operatorKey))).toEqual([403, 'override_forbidden']);
  });

  it("an admin's override serves an unblessed version: audited with person and reason, shown on the endpoint and the version", async () => {
    const res = await rollout({ version: v.rejected, strategy: 'allAtOnce', override: { reason: 'v1 leaks PII, v2 is the lesser evil' } });
    const rolloutId = await started(res);
    const view = await untilRolloutEnds(rolloutId);
    expect(view).toMatchObject({ stable: { version: v.rejected }, rollout: { status: 'succeeded' } });
    expect(view.rollout?.reason).toMatch(/^override by admin \(key key_\w+\): v1 leaks PII, v2 is the lesser evil/);
    expect(view.overrides).toEqual([expect.objectContaining({ owner: 'admin', reason: 'v1 leaks PII, v2 is the lesser evil' })]);
    expect(view.events.find((e) => e.toVersion?.version === v.rejected)?.reason).toContain('override by admin');

    const audited = await t.database.db.select().from(auditLog).where(and(eq(auditLog.projectId, t.projectId), eq(auditLog.action, 'override.used')));
    expect(audited).toHaveLength(1);
    expect(audited[0]?.details).toMatchObject({ owner: 'admin', reason: 'v1 leaks PII, v2 is the lesser evil', endpoint: 'guarded', rolloutId });
    const version = (await (await t.request('GET', `/v1/models/guarded/versions/${v.rejected}`)).json()) as { overrides: unknown[]; blessing: { decision: string } };
    expect(version.blessing.decision).toBe('rejected');
    expect(version.overrides).toEqual([expect.objectContaining({ owner: 'admin', reason: 'v1 leaks PII, v2 is the lesser evil', endpoint: 'guarded' })]);
  });

  it('a workflow started around the API cannot serve an unblessed version either (defence in depth)', async () => {
    // The deploy Update sent straight to the controller: its traffic change refuses, traffic stays.
    const options = endpointControllerStartOptions(t.projectId, 'guarded-direct', t.taskQueues.cpu);
    const versionId = await versionIdOf(v.infraFailed);
    const accepted = await t.factory.client.workflow.executeUpdateWithStart(deployUpdate, {
      updateId: 'direct-1',
      args: [{ rolloutId: 'direct-1', candidate: { versionId, model: 'guarded', version: v.infraFailed }, strategy: { type: 'allAtOnce' }, reason: 'by hand', requestedBy: 'someone', waitForFirstStep: true }],
      startWorkflowOperation: new WithStartWorkflowOperation(endpointController, options),
    });
    expect(accepted).toMatchObject({ status: 'failed', endpointId: null });
    expect(accepted.outcome).toContain('failed infra-validation');
    // The legacy deploy workflow refuses the same way.
    const err = await t.factory.client.workflow
      .execute(deployModel, { workflowId: `deploy-by-hand-${Date.now()}`, taskQueue: t.taskQueues.cpu, args: [{ projectId: t.projectId, endpointName: 'guarded-legacy', modelVersionId: await versionIdOf(v.rejected), reason: 'by hand' }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause?.cause as Error | undefined)?.message).toContain('is not blessed');
  });

  it("when the model's policy requires approval: 409 approval_required, even with an override, until another person approves", async () => {
    await writeModelPolicy(t.database.db, {
      projectId: t.projectId,
      modelId,
      endpointId: null,
      policy: { ...EMPTY_MODEL_POLICY, promotion: { thresholds: [], requireApproval: true, approvalTimeoutMs: 600_000 } },
      actor: 'test',
      reason: 'four eyes on guarded',
    });
    expect(await refusal(await rollout({ version: v.needsApproval, strategy: 'allAtOnce' }))).toEqual([409, 'approval_required']);
    expect(await refusal(await rollout({ version: v.needsApproval, strategy: 'allAtOnce', override: { reason: 'urgent' } }))).toEqual([409, 'approval_required']);

    // The requester cannot turn approval off: the policy decides.
    const asked = await promote({ version: v.needsApproval, reason: 'v5 is better', requireApproval: false }, operatorKey);
    expect(asked.status).toBe(202);
    const { workflowId, requireApproval } = (await asked.json()) as { workflowId: string; requireApproval: boolean };
    expect(requireApproval).toBe(true);
    const approved = await t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json: { decision: 'approve', reason: 'checked the card' }, key: approverKey });
    expect(approved.status).toBe(200);
    expect((await waitForWorkflow(t, workflowId)).result).toMatchObject({ promoted: true });

    const view = await untilRolloutEnds(await started(await rollout({ version: v.needsApproval, strategy: 'allAtOnce' })));
    expect(view).toMatchObject({ stable: { version: v.needsApproval }, rollout: { status: 'succeeded' } });
  });

  it('four eyes per person: the owner who asked for a promotion cannot approve it with a second key', async () => {
    const sameOwnerApprover = await t.createKey('approver', 'admin');
    const asked = await promote({ version: v.good, reason: 'back to v1' });
    expect(asked.status).toBe(202);
    const { workflowId } = (await asked.json()) as { workflowId: string };
    const decide = (key: string) => t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json: { decision: 'approve', reason: 'lgtm' }, key });
    expect(await refusal(await decide(sameOwnerApprover))).toEqual([403, 'cannot_approve_own_model']);
    expect((await decide(approverKey)).status).toBe(200);
    expect((await waitForWorkflow(t, workflowId)).result).toMatchObject({ promoted: true });
  });

  it("an admin's override moves production only through a second person's approval when the policy asks, and is audited", async () => {
    const asked = await promote({ version: v.infraFailed, reason: 'the probe was wrong', requireApproval: false, override: { reason: 'probe flaked on a busy host' } });
    expect(asked.status).toBe(202);
    const { workflowId, requireApproval, override } = (await asked.json()) as { workflowId: string; requireApproval: boolean; override: { owner: string } };
    expect([requireApproval, override.owner]).toEqual([true, 'admin']);
    const version = (await (await t.request('GET', `/v1/models/guarded/versions/${v.infraFailed}`)).json()) as { overrides: unknown[] };
    expect(version.overrides).toEqual([expect.objectContaining({ alias: 'production', owner: 'admin', reason: 'probe flaked on a busy host', workflowId })]);
    const own = await t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json: { decision: 'approve', reason: 'mine' } });
    expect(await refusal(own)).toEqual([403, 'cannot_approve_own_model']);
    expect((await t.request('POST', `/v1/workflows/${encodeURIComponent(workflowId)}/approval`, { json: { decision: 'reject', reason: 'fix the probe first' }, key: approverKey })).status).toBe(200);
    expect((await waitForWorkflow(t, workflowId)).result).toMatchObject({ promoted: false });
  });

  it('every API key names its owner: 422 without one, and its creation is audited with owner and role', async () => {
    const ownerless = await t.request('POST', '/v1/api-keys', { json: { name: 'ci', role: 'operator' } });
    expect(ownerless.status).toBe(422);
    expect(await ownerless.json()).toMatchObject({ error: { code: 'invalid_request', field: 'owner', message: 'owner: required; name the person or service this key belongs to (e.g. an e-mail), since approvals compare owners, not keys.' } });
    const created = await t.request('POST', '/v1/api-keys', { json: { name: 'ci', owner: 'ci@example.com', role: 'operator' } });
    expect(created.status).toBe(201);
    const { id, owner } = (await created.json()) as { id: string; owner: string };
    expect(owner).toBe('ci@example.com');
    const [audit] = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'api_key.created'), eq(auditLog.subjectId, id)));
    expect(audit?.details).toMatchObject({ owner: 'ci@example.com', role: 'operator', name: 'ci' });
    const listed = (await (await t.request('GET', '/v1/api-keys')).json()) as { keys: { id: string; owner: string }[] };
    expect(listed.keys.find((k) => k.id === id)?.owner).toBe('ci@example.com');
  });

  async function versionIdOf(version: number): Promise<string> {
    const res = await t.request('GET', `/v1/models/guarded/versions/${version}`);
    return ((await res.json()) as { id: string }).id;
  }
});
