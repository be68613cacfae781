import { describe, expect, it } from 'vitest';
import { buildModelCard, type ModelCardInput } from '../../registry/model-card';
import type { ClassificationReport } from '../../domain/model';

const report: ClassificationReport = {
  task: 'classification',
  split: { testFraction: 0.2, seed: 7, rows: 40 },
  parity: { rows: 40, maxAbsDiff: 1e-6, tolerance: 1e-4 },
  accuracy: 0.925,
  rocAuc: 0.97,
  logLoss: 0.21,
  positives: 18,
  perClass: [
    { label: 'no', support: 22, precision: 0.9, recall: 0.95, f1: 0.92, rocAuc: 0.97 },
    { label: 'yes', support: 6, precision: 0.94, recall: 0.89, f1: 0.91, rocAuc: 0.97 },
  ],
};

function input(evaluation: Record<string, unknown> = {}): ModelCardInput {
  return {
    model: { name: 'churn' },
    version: { id: 'mv_1', version: 3, createdAt: '2026-11-25T09:00:00.000Z', onnxSha256: 'ab'.repeat(32), features: ['tenure', 'charges'] },
    run: {
      id: 'run_1',
      task: 'classification',
      taskReason: 'the target "churned" holds text',
      target: 'churned',
      classes: ['no', 'yes'],
      spec: { type: 'logistic', epochs: 10, learningRate: 0.1, batchSize: 16, hiddenUnits: [], seed: 7, testFraction: 0.2 },
      backend: 'wasm',
      codeVersion: '0.1.0+abc',
    },
    dataset: { id: 'dsv_1', name: 'churn', version: 2, rows: 200 },
    evaluation: { ...report, ...evaluation },
    blessing: { decision: 'blessed', thresholds: { minAccuracy: 0.8 }, champion: null, reasons: ['accuracy 0.925 ≥ 0.8'] },
    lineage: {
      trainingRunId: 'run_1',
      dataset: { id: 'ds_1', name: 'churn', versionId: 'dsv_1', version: 2, contentHash: 'cafe' },
      codeVersion: '0.1.0+abc',
      workflows: { pipeline: 'pipeline-1', train: 'pipeline-1/train', export: 'pipeline-1/export', evaluate: 'pipeline-1/evaluate', register: 'pipeline-1/register' },
    },
  };
}

describe('model card', () => {
  it('without slices, fairness or importance: says so, in JSON and Markdown', () => {
    const { json, markdown } = buildModelCard(input());
    expect(json).toMatchObject({ model: 'churn', version: 3, task: 'binary classification', family: 'logistic', slices: null, fairness: null, importance: null, champion: null });
    expect(json.data).toEqual({ datasetId: 'dsv_1', dataset: 'churn', datasetVersion: 2, rows: 200, holdoutRows: 40, testFraction: 0.2, seed: 7 });
    expect(json.metrics).toEqual([
      { name: 'accuracy', value: 0.925 },
      { name: 'rocAuc', value: 0.97 },
      { name: 'logLoss', value: 0.21 },
    ]);
    expect(json.intendedUse.summary).toContain('Predicts "churned" among "no", "yes"');
    expect(json.limitations).toContain('Only 40 held-out rows: the metrics\' uncertainty is large (a few rows move them by whole percentage points).');
    expect(json.limitations).toContain('Class "yes" has 6 held-out rows: its metrics are anecdotal.');
    expect(json.limitations.some((l) => l.startsWith('No fairness evaluation was declared'))).toBe(true);

    const lines = markdown.split('\n');
    expect(lines[0]).toBe('# Model card: churn v3');
    for (const line of ['## Intended use', '## Data', '## Metrics', '## Slices', '## Fairness', '## Feature importance', '## Blessing', '## Lineage', '## Limitations']) {
      expect(lines).toContain(line);
    }
    expect(lines).toContain('| accuracy | 0.9250 |');
    expect(lines).toContain('- Held out for evaluation: 40 rows (test fraction 0.2, seed 7)');
    expect(lines).toContain('- pipeline workflow: `pipeline-1`');
    expect(lines).toContain('- Training run: `run_1`');
    expect(lines[lines.indexOf('## Fairness') + 2]).toBe('Not evaluated.');
  });

  it('renders slices, fairness, importance and champion when the report has them', () => {
    const { json, markdown } = buildModelCard(
      input({
        slices: [{ column: 'region', values: [{ value: 'north', rows: 20, metrics: { accuracy: 0.9 } }, { value: 'south', rows: 20, metrics: { accuracy: 0.95 } }] }],
        fairness: { sensitive: 'gender', groups: [{ value: 'f', rows: 19, metrics: { selectionRate: 0.4 } }], metrics: { demographicParityDifference: 0.05, disparateImpactRatio: 0.9 } },
        importance: [
          { feature: 'charges', mean: 0.02, std: 0.01 },
          { feature: 'tenure', mean: 0.12, std: 0.03 },
        ],
        champion: { modelVersionId: 'mv_0', metrics: { accuracy: 0.9 } },
      }),
    );
    expect(json.slices).toEqual([
      {
        column: 'region',
        values: [
          { value: 'north', rows: 20, metrics: [{ name: 'accuracy', value: 0.9 }] },
          { value: 'south', rows: 20, metrics: [{ name: 'accuracy', value: 0.95 }] },
        ],
      },
    ]);
    expect(json.fairness?.metrics).toEqual([
      { name: 'demographicParityDifference', value: 0.05 },
      { name: 'disparateImpactRatio', value: 0.9 },
    ]);
    expect(json.importance?.map((i) => i.feature)).toEqual(['tenure', 'charges']);
    expect(json.champion).toEqual({ modelVersionId: 'mv_0', version: null, rows: null, metrics: [{ name: 'accuracy', value: 0.9 }] });
    expect(json.metrics.map((m) => m.name)).not.toContain('slices');

    const lines = markdown.split('\n');
    expect(lines).toContain('### region');
    expect(lines).toContain('| north | 20 | 0.9000 |');
    expect(lines).toContain('Sensitive attribute: gender');
    expect(lines).toContain('| demographicParityDifference | 0.0500 |');
    expect(lines).toContain('| tenure | 0.1200 | 0.0300 |');
    expect(json.limitations.some((l) => l.startsWith('No fairness'))).toBe(false);
  });

  it('reads the report as the evaluate stage stores it: metric set, slices, fairness figures, importance, champion and verdicts', () => {
    const base = input({
      metrics: { accuracy: 0.91, pr_auc: 0.88, ece: 0.03 },
      slices: [{ column: 'region', distinctValues: 2, cap: 50, slices: [{ value: 'north', rows: 20, metrics: { accuracy: 0.9 } }] }],
      fairness: {
        sensitive: 'sex',
        favorable: 'no',
        privileged: 'm',
        groups: [{ value: 'f', rows: 19, selectionRate: 0.4, truePositiveRate: 0.9 }],
        demographicParityDifference: 0.05,
        equalOpportunityDifference: 0.02,
        disparateImpactRatio: 0.9,
        versusPrivileged: null,
      },
      importance: { metric: 'accuracy', baseline: 0.91, repeats: 5, seed: 42, rows: 40, features: [{ feature: 'tenure', mean: 0.12, std: 0.03 }] },
      champion: { status: 'compared', modelVersionId: 'mv_0', version: 3, rows: 40, champion: { accuracy: 0.89 }, candidate: { accuracy: 0.91 } },
    });
    const verdicts = [{ threshold: { metric: 'accuracy' as const, maxDrop: 0.01 }, candidate: 0.91, champion: 0.89, passed: true, message: 'accuracy rose by 0.0200 against the champion v3' }];
    const { json, markdown } = buildModelCard({ ...base, blessing: { ...base.blessing, verdicts } });
    expect(json.metrics).toEqual([
      { name: 'accuracy', value: 0.91 },
      { name: 'pr_auc', value: 0.88 },
      { name: 'ece', value: 0.03 },
    ]);
    expect(json.slices?.[0]?.values).toEqual([{ value: 'north', rows: 20, metrics: [{ name: 'accuracy', value: 0.9 }] }]);
    expect(json.fairness?.metrics.map((m) => m.name)).toEqual(['demographicParityDifference', 'equalOpportunityDifference', 'disparateImpactRatio']);
    expect(json.importance).toEqual([{ feature: 'tenure', mean: 0.12, std: 0.03 }]);
    expect(json.champion).toEqual({ modelVersionId: 'mv_0', version: 3, rows: 40, metrics: [{ name: 'accuracy', value: 0.89 }] });
    const lines = markdown.split('\n');
    expect(lines).toContain('Champion v3 on the same 40 held-out rows:');
    expect(lines).toContain('- passed: accuracy rose by 0.0200 against the champion v3');

    const alone = buildModelCard(input({ champion: { status: 'none', reason: 'no version of churn holds production yet', modelVersionId: null } }));
    expect(alone.json.champion).toBeNull();
    expect(alone.markdown.split('\n')).toContain('No champion comparison: no version of churn holds production yet.');
  });

  it('a rejected version says why among its limitations; odd shapes are ignored, not thrown', () => {
    const base = input({ slices: 'region', fairness: { groups: [] }, importance: [{ feature: 1 }] });
    const { json } = buildModelCard({ ...base, blessing: { ...base.blessing, decision: 'rejected', reasons: ['accuracy 0.6 < 0.8'] }, lineage: null });
    expect(json).toMatchObject({ slices: null, fairness: null, importance: null, lineage: null });
    expect(json.limitations).toContain('Not blessed: accuracy 0.6 < 0.8.');
  });
});
