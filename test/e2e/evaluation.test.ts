import { and, eq } from 'drizzle-orm';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelAliases, modelVersions, trainingRuns } from '../../db/schema';
import type { ClassificationReport } from '../../domain/model';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';
import { nanOnnx } from '../support/onnx-graphs';
import { infraValidateModel } from '../../workflows';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { churnRows } from '../support/synthetic-data';
import { recordHistory } from '../support/record-history';

/** Churn rows with a region and a sex column: string columns that are not features, to slice and group by. */
function churnCsvWithGroups(n: number): string {
  const random = seedrandom('groups');
  const regions = ['north', 'south', 'east', 'west'];
  const lines = churnRows(n, 'evaluation').map((r) => {
    const region = regions[Math.floor(random() * 4)] as string;
    const sex = random() < 0.5 ? 'f' : 'm';
    return `${r.tenure},${r.spend},${r.noise},${region},${sex},${r.churned}`;
  });
  return ['tenure,spend,noise,region,sex,churned', ...lines].join('\n') + '\n';
}

const model = { type: 'logistic', epochs: 25, learningRate: 0.1, batchSize: 32, seed: 7 };

/** Evaluation through the real API and Temporal: sliced, fair, explained, and judged against the champion on the same rows. */
describe('evaluation on the served model, thresholds and the champion', () => {
  let t: TestFactory;

  beforeAll(async () => {
    t = await startTestFactory({ activityTimeouts: { heartbeatTimeoutMs: 3000 } });
    const upload = await t.request('POST', '/v1/datasets/churn-groups/versions?wait=true', { body: churnCsvWithGroups(1200), contentType: 'text/csv' });
    expect(upload.status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const pipeline = (extra: Record<string, unknown>) =>
    t.request('POST', '/v1/pipelines', { json: { dataset: 'churn-groups', target: 'churned', features: ['tenure', 'spend', 'noise'], model, endpoint: 'churn-eval', ...extra } });

  it('refuses bad thresholds, slices and fairness with a 422 before anything runs', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ promotion: { thresholds: [{ metric: 'auc', min: 0.8 }] } }, 'unknown_metric'],
      [{ promotion: { thresholds: [{ metric: 'rmse', max: 1 }] } }, 'metric_not_for_task'],
      [{ promotion: { thresholds: [{ metric: 'log_loss', maxDrop: 0.1 }] } }, 'invalid_threshold'],
      [{ promotion: { thresholds: [], approvalTimeout: 'soon' } }, 'invalid_duration'],
      [{ slices: ['planet'] }, 'unknown_slice_column'],
      [{ slices: ['tenure'] }, 'slice_column_not_categorical'],
      [{ fairness: { sensitive: 'gender' } }, 'unknown_sensitive_column'],
      [{ fairness: { sensitive: 'sex', favorable: 'maybe' } }, 'unknown_favorable_class'],
    ];
    for (const [extra, code] of cases) {
      const res = await pipeline(extra);
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    const unknown = await pipeline({ promotion: { thresholds: [{ metric: 'roc_auc', min: 0.5 }, { metric: 'auc', min: 0.8 }] } });
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_metric', field: 'promotion.thresholds[1]', metric: 'auc' } });
    expect(await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.projectId, t.projectId))).toHaveLength(0);
  });

  let firstRows = 0;
  let first: { trainingRunId: string; onnxUri: string } | null = null;

  it('first version: no champion, report with slices, fairness and importance, every threshold listed', async () => {
    const start = await pipeline({
      slices: ['region'],
      fairness: { sensitive: 'sex', privileged: 'm' },
      promotion: { thresholds: [{ metric: 'roc_auc', min: 0.8 }, { metric: 'roc_auc', maxDrop: 0.01 }, { metric: 'ece', max: 0.5 }] },
    });
    expect(start.status).toBe(202);
    const final = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    expect(final.status).toBe('COMPLETED');
    const result = final.result as { stage: string; trainingRunId: string; evaluation: Record<string, unknown> };
    expect(result.stage).toBe('done');
    expect(result.evaluation).toMatchObject({ blessed: true, failedThresholds: [], champion: null });

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    const report = run?.evaluation as ClassificationReport;
    firstRows = report.split.rows;
    expect(report.metrics?.roc_auc).toBeGreaterThan(0.9);
    expect(Object.keys(report.metrics ?? {}).sort()).toEqual(['accuracy', 'ece', 'f1', 'log_loss', 'pr_auc', 'precision', 'recall', 'roc_auc']);
    const [regions] = report.slices ?? [];
    expect(regions?.column).toBe('region');
    expect(regions?.slices.map((s) => s.value).sort()).toEqual(['east', 'north', 'south', 'west']);
    expect(regions?.slices.reduce((a, s) => a + s.rows, 0)).toBe(firstRows);
    expect(report.fairness).toMatchObject({ sensitive: 'sex', favorable: 'yes', privileged: 'm' });
    expect(report.fairness?.groups.map((g) => g.value).sort()).toEqual(['f', 'm']);
    expect(report.fairness?.versusPrivileged?.[0]?.value).toBe('f');
    expect(report.importance?.features.map((f) => f.feature).at(-1)).toBe('noise');
    expect(report.champion).toMatchObject({ status: 'none', reason: 'no version of churn-eval holds production yet' });

    expect(run?.blessing?.decision).toBe('blessed');
    // The three asked for, and the default maxDrop on accuracy (no champion yet, so it passes).
    expect(run?.blessing?.verdicts?.map((v) => v.passed)).toEqual([true, true, true, true]);
    expect(run?.blessing?.verdicts?.[3]).toMatchObject({ threshold: { metric: 'accuracy', maxDrop: 0.01, default: true }, passed: true });
    expect(run?.blessing?.verdicts?.[1]?.message).toMatch(/no champion/);
    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, result.trainingRunId));
    expect(version?.blessing).toEqual(run?.blessing);
    // The drift baseline travels with the version: decile bins of each training feature, predictions on the held-out rows.
    const baseline = (version?.evaluation as ClassificationReport | undefined)?.baseline;
    expect(baseline?.features.map((f) => f.feature)).toEqual(['tenure', 'spend', 'noise']);
    expect(baseline?.features[0]?.counts.reduce((a, b) => a + b, 0)).toBe(baseline?.features[0]?.rows);
    expect(baseline?.features[1]?.edges).toHaveLength(9);
    expect(baseline?.prediction).toMatchObject({ task: 'classification', classes: ['no', 'yes'] });
    expect(baseline?.prediction.task === 'classification' && baseline.prediction.labelCounts.reduce((a, b) => a + b, 0)).toBe(firstRows);
    first = { trainingRunId: result.trainingRunId, onnxUri: version?.onnxUri ?? '' };
  });

  it('a worse challenger is scored with the champion on the same rows, none the champion trained on, and stopped by maxDrop', async () => {
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn-groups', target: 'churned', features: ['noise'], model, endpoint: 'churn-eval', promotion: { thresholds: [{ metric: 'roc_auc', maxDrop: 0.01 }] } },
    });
    expect(start.status).toBe(202);
    const { workflowId } = (await start.json()) as { workflowId: string };
    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    await recordHistory(workflowId, 'factory-pipeline-champion-rejected.json');
    const result = final.result as { stage: string; trainingRunId: string; evaluation: { blessed: boolean; failedThresholds: string[]; champion: string } };
    expect(result.stage).toBe('rejected');
    expect(result.evaluation).toMatchObject({ blessed: false, champion: 'v1' });
    expect(result.evaluation.failedThresholds[0]).toMatch(/^roc_auc fell by 0\.\d+ against the champion v1 \((1|0\.9\d+) → 0\.\d+, maxDrop 0\.0100\)$/);

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    const champion = run?.evaluation?.champion;
    if (champion?.status !== 'compared') throw new Error('no comparison');
    // Another feature set splits rows by other content: the held-out rows the champion trained on are left out, and counted.
    const [excluded] = champion.excluded ?? [];
    expect(excluded).toMatchObject({ reason: "in the champion v1's training split (hash of the row's content)" });
    expect(champion.rows).toBeGreaterThan(20);
    expect(champion.rows + excluded!.rows).toBe(run?.evaluation?.split.rows);
    expect(champion.champion.roc_auc).toBeGreaterThan(0.9);
    expect(champion.candidate.roc_auc).toBeLessThan(0.75);
    expect(run?.blessing).toMatchObject({ decision: 'rejected', champion: { version: 1, metric: 'accuracy' } });
    // The verdict shows the candidate's own held-out value; the relative bound was judged on the shared rows (message above).
    expect(run?.blessing?.verdicts?.[0]).toMatchObject({ passed: false, champion: champion.champion.roc_auc, candidate: run?.evaluation?.metrics?.roc_auc });
  });

  it('an equal challenger passes maxDrop against the champion and takes production', async () => {
    const start = await pipeline({ promotion: { thresholds: [{ metric: 'roc_auc', maxDrop: 0.05 }, { metric: 'log_loss', maxRise: 0.05 }] } });
    const final = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    const result = final.result as { stage: string; trainingRunId: string; modelVersion: { version: number }; evaluation: { blessed: boolean; champion: string } };
    expect(result).toMatchObject({ stage: 'done', modelVersion: { version: 3 }, evaluation: { blessed: true, champion: 'v1' } });
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run?.evaluation?.champion).toMatchObject({ status: 'compared', version: 1, rows: firstRows });
    expect(run?.blessing?.verdicts?.map((v) => [v.passed, v.champion !== null])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    expect(run?.blessing?.verdicts?.[0]?.message).toMatch(/against the champion v1/);
    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, result.trainingRunId));
    const [production] = await t.database.db.select().from(modelAliases).where(and(eq(modelAliases.modelId, version?.modelId ?? ''), eq(modelAliases.alias, 'production')));
    expect(production?.modelVersionId).toBe(version?.id);
  });

  it('with no thresholds, a candidate worse than the champion is not blessed: the default maxDrop on accuracy', async () => {
    // Set explicitly: a pipeline that left promotion out would follow the thresholds stored by the pipelines before.
    const start = await t.request('POST', '/v1/pipelines', { json: { dataset: 'churn-groups', target: 'churned', features: ['noise'], model, endpoint: 'churn-eval', promotion: { thresholds: [] } } });
    expect(start.status).toBe(202);
    const final = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    const result = final.result as { stage: string; trainingRunId: string; evaluation: { blessed: boolean; failedThresholds: string[]; champion: string } };
    expect(result).toMatchObject({ stage: 'rejected', evaluation: { blessed: false, champion: 'v3' } });
    expect(result.evaluation.failedThresholds).toHaveLength(1);
    expect(result.evaluation.failedThresholds[0]).toMatch(/^default \(no worse than the champion\): accuracy fell by 0\.\d+ against the champion v3 .*maxDrop 0\.0100\)$/);
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run?.blessing?.verdicts).toEqual([expect.objectContaining({ threshold: { metric: 'accuracy', maxDrop: 0.01, default: true }, passed: false })]);
  });

  it('infraValidateModel passes the served model and stops one with NaN outputs, typed InfraValidationFailed', async () => {
    if (!first) throw new Error('the first pipeline did not run');
    const run = (onnxUri: string) =>
      t.factory.client.workflow.execute(infraValidateModel, {
        workflowId: `infra-${onnxUri.slice(-12)}`,
        taskQueue: t.taskQueues.cpu,
        args: [{ trainingRunId: first?.trainingRunId ?? '', onnxUri, latencyBudgetMs: 10_000, timeouts: { heartbeatTimeoutMs: 3000 } }],
      });
    const passed = await run(first.onnxUri);
    expect(passed).toMatchObject({ rows: 32, latencyCalls: 100, latencyBudgetMs: 10_000 });
    await recordHistory(`infra-${first.onnxUri.slice(-12)}`, 'infra-validate-model.json');

    const broken = await t.factory.artifacts.put(nanOnnx(3));
    const err = await run(broken.uri).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'InfraValidationFailed', nonRetryable: true });
    expect((cause as ApplicationFailure).message).toMatch(/NaN on sample row 0/);
    await recordHistory(`infra-${broken.uri.slice(-12)}`, 'infra-validate-model-failed.json');
  });

  it('records why there is no comparison when this dataset lacks a feature of the champion', async () => {
    const csv = churnCsvWithGroups(400)
      .split('\n')
      .map((line) => line.split(',').filter((_, i) => i !== 2).join(','))
      .join('\n');
    expect((await t.request('POST', '/v1/datasets/churn-no-noise/versions?wait=true', { body: csv, contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'churn-no-noise', target: 'churned', model, endpoint: 'churn-eval-2', registeredModel: 'churn-eval', promotion: { thresholds: [{ metric: 'roc_auc', maxDrop: 0 }] } },
    });
    expect(start.status).toBe(202);
    const final = await waitForWorkflow(t, ((await start.json()) as { workflowId: string }).workflowId);
    const result = final.result as { stage: string; trainingRunId: string; evaluation: { blessed: boolean; champion: string | null } };
    expect(result).toMatchObject({ stage: 'done', evaluation: { blessed: true, champion: null } });
    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run?.evaluation?.champion).toMatchObject({ status: 'none', reason: 'the champion v3 needs the features noise, which this dataset version lacks as numeric columns' });
    expect(run?.blessing?.championNote).toBe('the champion v3 needs the features noise, which this dataset version lacks as numeric columns');
    expect(run?.blessing?.verdicts?.[0]?.message).toMatch(/no champion/);
  });
});
