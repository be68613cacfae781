import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfBackend } from '../../ml/tf-backend';
import { fitAndScore, preparePublicDataset, QUALITY_RUNS } from '../support/public-datasets';

/** scikit-learn's holdout metrics on the same splits, made by bench/quality/sklearn_reference.py (the command is in the file). */
const reference = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'fixtures', 'quality', 'sklearn-reference.json'), 'utf8')) as {
  datasets: Record<string, { models: Record<string, Record<string, number>> }>;
};
const COUNTERPART: Record<string, string> = { 'iris/logistic': 'LogisticRegression', 'iris/mlp': 'MLPClassifier', 'penguins/logistic': 'LogisticRegression', 'penguins/mlp': 'MLPClassifier', 'cars/linear': 'Ridge', 'cars/mlp': 'MLPRegressor' };
/** "Within a few points" of scikit-learn on the held-out rows. */
const MARGIN = 0.05;

describe('holdout quality on public tables, against scikit-learn on the same split', () => {
  beforeAll(async () => {
    await initTfBackend({ preferGpu: false });
  });

  it.each(QUALITY_RUNS.map((r) => [`${r.dataset}/${r.family}`, r] as const))('%s', async (key, run) => {
    const theirs = reference.datasets[run.dataset]?.models[COUNTERPART[key] ?? ''];
    expect(theirs).toBeDefined();
    const ours = await fitAndScore(await preparePublicDataset(run.dataset), run.spec);
    if ('accuracy' in ours) {
      expect(ours.accuracy).toBeGreaterThanOrEqual((theirs?.accuracy ?? 1) - MARGIN);
      expect(ours.macroF1).toBeGreaterThanOrEqual((theirs?.macroF1 ?? 1) - MARGIN);
    } else {
      expect(ours.r2).toBeGreaterThanOrEqual((theirs?.r2 ?? 1) - MARGIN);
      expect(ours.rmse).toBeLessThanOrEqual((theirs?.rmse ?? 0) * (1 + MARGIN));
    }
  });

  it('infers the task from each target', async () => {
    expect((await preparePublicDataset('iris')).task).toEqual({ task: 'classification', reason: 'the target "species" holds text' });
    expect((await preparePublicDataset('penguins')).classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect((await preparePublicDataset('cars')).task).toMatchObject({ task: 'regression', reason: expect.stringContaining('"Miles_per_Gallon" holds numbers that are not all whole') as unknown });
  });
});
