import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimRetrain, finishRetrain, listRetrains, type RetrainClaimRequest } from '../../db/queries/retrains';
import { modelVersions } from '../../db/schema';
import type { RetrainTrigger } from '../../domain/retrain';
import { retrainWorkflowId } from '../../domain/retrain-episode';
import { insertModelVersion } from '../support/candidate-models';
import { openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { setEndpointTraffic } from '../support/serving-fixtures';

type ClaimBase = Omit<RetrainClaimRequest, 'episode' | 'workflowId' | 'trigger'>;

/** A model with a version serving on endpoint churn: what every claim of these tests is for. */
async function claimBase(home: RetrainHome): Promise<ClaimBase> {
  const db = home.database.db;
  const version = await insertModelVersion(db, { projectId: home.projectId, model: 'churn', features: ['tenure', 'spend'] });
  const endpointId = await setEndpointTraffic(db, { projectId: home.projectId, endpoint: 'churn', stable: version.modelVersionId });
  const [row] = await db.select({ modelId: modelVersions.modelId }).from(modelVersions).where(eq(modelVersions.id, version.modelVersionId));
  return { projectId: home.projectId, endpointId, modelId: row!.modelId };
}

/** The claim table under concurrency: the database, not the caller, decides who retrains. */
describe('retrain claims', () => {
  let home: RetrainHome;
  let base: ClaimBase;

  beforeAll(async () => {
    home = await openRetrainHome('retrain-claims');
    base = await claimBase(home);
  });
  afterAll(async () => {
    await home?.close();
  });

  const drift = (monitor: string): RetrainTrigger => ({ kind: 'drift', monitorWorkflowId: monitor, reportIds: [`report-${monitor}`], modelVersionId: 'mv', window: { from: 'a', to: 'b' }, reasons: [] });
  const request = (episode: string, monitor: string): RetrainClaimRequest => ({ ...base, episode, workflowId: retrainWorkflowId(base.modelId, episode), trigger: drift(monitor) });

  it('twenty concurrent alarms of one episode: one claim, the others find it; a retried alarm finds its own claim again', async () => {
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => claimRetrain(home.database.db, request('e1', `m${i}`))));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'existing')).toHaveLength(19);
    expect(new Set(claims.map((c) => c.run.id)).size).toBe(1);
    const winner = claims.find((c) => c.kind === 'claimed')!;
    const monitor = winner.run.trigger.kind === 'drift' ? winner.run.trigger.monitorWorkflowId : '';
    expect(await claimRetrain(home.database.db, request('e1', monitor))).toMatchObject({ kind: 'claimed', run: { id: winner.run.id, status: 'running' } });
    expect(await listRetrains(home.database.db, base.endpointId)).toHaveLength(1);
  });

  it('other episodes while one runs are recorded as skipped, naming the running retrain; once it ends, a skipped episode can be claimed', async () => {
    const db = home.database.db;
    const skipped = await Promise.all(['e2', 'e3', 'e4'].map((e) => claimRetrain(db, request(e, 'late'))));
    for (const s of skipped) {
      expect(s.kind).toBe('skipped');
      expect(s.run).toMatchObject({ status: 'skipped', outcome: { skippedFor: retrainWorkflowId(base.modelId, 'e1') } });
    }
    const finished = await finishRetrain(db, retrainWorkflowId(base.modelId, 'e1'), { status: 'succeeded', outcome: { pipelineStage: 'done' } });
    expect(finished).toMatchObject({ status: 'succeeded' });
    // Ending twice changes nothing (a retried activity).
    expect(await finishRetrain(db, retrainWorkflowId(base.modelId, 'e1'), { status: 'failed', outcome: { error: 'late' } })).toMatchObject({ status: 'succeeded' });
    // The handled episode stays handled.
    expect(await claimRetrain(db, request('e1', 'after'))).toMatchObject({ kind: 'existing', run: { status: 'succeeded' } });

    // Two skipped episodes asked again at once: the partial unique index lets one run, the other stays skipped.
    const again = await Promise.all([claimRetrain(db, request('e2', 'again')), claimRetrain(db, request('e3', 'again'))]);
    expect(again.map((c) => c.kind).sort()).toEqual(['claimed', 'skipped']);
    const runs = await listRetrains(db, base.endpointId);
    expect(runs.filter((r) => r.status === 'running')).toHaveLength(1);
    expect(runs).toHaveLength(4);
  });
});

/** A failed attempt frees its episode after a backoff, for a bounded number of attempts (issue 15, item 7). */
describe('retrain attempts after a failure', () => {
  let home: RetrainHome;
  let base: ClaimBase;

  beforeAll(async () => {
    home = await openRetrainHome('retrain-attempts');
    base = await claimBase(home);
  });
  afterAll(async () => {
    await home?.close();
  });

  const retry = { maxAttempts: 3, backoffSeconds: 1 };
  const alarm = (monitor: string): RetrainClaimRequest => ({
    ...base,
    episode: 'e1',
    workflowId: retrainWorkflowId(base.modelId, 'e1'),
    trigger: { kind: 'drift', monitorWorkflowId: monitor, reportIds: [`report-${monitor}`], modelVersionId: 'mv', window: { from: 'a', to: 'b' }, reasons: [] },
    retry,
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a failed attempt is claimed again by one of many alarms once its backoff passed, under a new workflow id, up to maxAttempts', async () => {
    const db = home.database.db;
    const first = await claimRetrain(db, alarm('m0'));
    expect(first).toMatchObject({ kind: 'claimed', run: { attempt: 1, maxAttempts: 3, workflowId: retrainWorkflowId(base.modelId, 'e1') } });
    const failed = await finishRetrain(db, first.run.workflowId, { status: 'failed', outcome: { error: 'no labelled traffic' } });
    expect(failed?.retryAt?.getTime()).toBeGreaterThanOrEqual(failed!.finishedAt!.getTime() + 1000);

    // During the backoff an alarm finds the failed attempt and starts nothing.
    expect(await claimRetrain(db, alarm('m1'))).toMatchObject({ kind: 'existing', run: { attempt: 1, status: 'failed' } });
    await sleep(1100);
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => claimRetrain(db, alarm(`m2-${i}`))));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(new Set(claims.map((c) => c.run.workflowId))).toEqual(new Set([retrainWorkflowId(base.modelId, 'e1', 2)]));
    expect(claims[0]!.run).toMatchObject({ attempt: 2, status: 'running' });

    // The second backoff doubles (2 s); the third attempt is the last.
    const second = await finishRetrain(db, retrainWorkflowId(base.modelId, 'e1', 2), { status: 'failed', outcome: { error: 'again' } });
    expect(second!.retryAt!.getTime() - second!.finishedAt!.getTime()).toBe(2000);
    await sleep(1100);
    expect(await claimRetrain(db, alarm('m3'))).toMatchObject({ kind: 'existing', run: { attempt: 2 } });
    await sleep(1000);
    expect(await claimRetrain(db, alarm('m4'))).toMatchObject({ kind: 'claimed', run: { attempt: 3, workflowId: retrainWorkflowId(base.modelId, 'e1', 3) } });
    const last = await finishRetrain(db, retrainWorkflowId(base.modelId, 'e1', 3), { status: 'failed', outcome: { error: 'third' } });
    expect(last?.retryAt).toBeNull();
    expect(await claimRetrain(db, alarm('m5'))).toMatchObject({ kind: 'existing', run: { attempt: 3, status: 'failed' } });
    expect((await listRetrains(db, base.endpointId)).map((r) => [r.attempt, r.status])).toEqual([
      [3, 'failed'],
      [2, 'failed'],
      [1, 'failed'],
    ]);
  });
});
