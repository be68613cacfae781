import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPgliteServer, type PgliteServer } from '../../db/pglite-server';
import { auditLog, datasets, datasetVersions, modelVersions, trainingRuns } from '../../db/schema';
import { startCommitCutProxy, type CommitCutProxy } from '../support/commit-cut-proxy';
import { churnRows, toCsv } from '../support/synthetic-data';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

/**
 * The connection is cut right after an activity's COMMIT reached the database and was answered, before the
 * answer reached the activity: it cannot know its write landed, fails, and Temporal retries it. The retry
 * must find what the lost commit wrote instead of writing it again. Runs on the suite's PostgreSQL, else on
 * PGlite served by its own process (what `npm start` runs), each behind a proxy that makes the cut.
 */
describe('a commit whose acknowledgement is lost is retried and written once', () => {
  let pglite: PgliteServer | undefined;
  let proxy: CommitCutProxy;
  let t: TestFactory;

  beforeAll(async () => {
    const suiteUrl = inject('databaseUrl');
    pglite = suiteUrl ? undefined : await startPgliteServer();
    proxy = await startCommitCutProxy(suiteUrl || (pglite?.url ?? ''));
    t = await startTestFactory({ database: { url: proxy.url } });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
    await pglite?.stop();
  });

  it('records the dataset version once: the retried activity finds the row its lost commit wrote', async () => {
    const cut = proxy.cutNextCommitAfter(/^insert into "dataset_versions"/i);
    const res = await t.request('POST', '/v1/datasets/ack/versions?wait=true', { body: toCsv(churnRows(600)), contentType: 'text/csv' });
    expect(await cut).toMatch(/^insert into "dataset_versions"/i);
    const body = (await res.json()) as { version: number; created: boolean; workflowId: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ version: 1, created: true });

    const [dataset] = await t.database.db.select().from(datasets).where(and(eq(datasets.projectId, t.projectId), eq(datasets.name, 'ack')));
    expect(await t.database.db.select().from(datasetVersions).where(eq(datasetVersions.datasetId, dataset?.id ?? ''))).toHaveLength(1);
    expect(await completedAttempt(t, body.workflowId, 'recordDatasetVersion')).toBe(2);
  });

  it('registers the model version once, audited once', async () => {
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'ack', target: 'churned', model: { type: 'mlp', hiddenUnits: [8], epochs: 2, batchSize: 32 }, endpoint: 'ack' } });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    expect(await proxy.cutNextCommitAfter(/^insert into "model_versions"/i)).toMatch(/^insert into "model_versions"/i);
    // The registration is what the cut hit; what the pipeline does with the version after it is not this test's.
    const registration = await waitForWorkflow(t, `${workflowId}/register`);
    expect(registration.status, JSON.stringify(registration)).toBe('COMPLETED');

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.workflowId, `${workflowId}/train`));
    const versions = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, run?.id ?? ''));
    expect(versions).toHaveLength(1);
    const registered = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'model_version.registered'), eq(auditLog.subjectId, versions[0]?.id ?? '')));
    expect(registered).toHaveLength(1);
    expect(await completedAttempt(t, `${workflowId}/register`, 'registerModelVersion')).toBe(2);
  });
});

async function completedAttempt(t: TestFactory, workflowId: string, activityType: string): Promise<number | undefined> {
  const history = await t.factory.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
  const started = history.events?.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(scheduled?.eventId));
  return started?.activityTaskStartedEventAttributes?.attempt ?? undefined;
}
