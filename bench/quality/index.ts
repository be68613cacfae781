import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { initTfBackend } from '../../ml/tf-backend';
import { fitAndScore, preparePublicDataset, QUALITY_RUNS } from '../../test/support/public-datasets';

interface Reference {
  sklearn: string;
  datasets: Record<string, { models: Record<string, Record<string, number>> }>;
}

/** Which scikit-learn model each of our families is compared with. */
const COUNTERPART = { logistic: 'LogisticRegression', mlp: { classification: 'MLPClassifier', regression: 'MLPRegressor' }, linear: 'Ridge' } as const;

/** `npm run bench:quality`: our holdout quality next to scikit-learn's on the same splits of public tables. */
async function main(): Promise<void> {
  const reference = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'quality', 'sklearn-reference.json'), 'utf8')) as Reference;
  const { backend } = await initTfBackend({ preferGpu: false });
  console.log(`TensorFlow.js backend: ${backend}; scikit-learn ${reference.sklearn} (fixture)`);
  console.log(['dataset', 'ours', 'sklearn', 'metric', 'ours', 'sklearn', 'train s'].join('\t'));
  for (const run of QUALITY_RUNS) {
    const data = await preparePublicDataset(run.dataset);
    const started = performance.now();
    const ours = (await fitAndScore(data, run.spec)) as unknown as Record<string, number>;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const counterpart = run.family === 'mlp' ? COUNTERPART.mlp[data.task.task] : COUNTERPART[run.family];
    const theirs = reference.datasets[run.dataset]?.models[counterpart] ?? {};
    for (const metric of Object.keys(ours)) {
      console.log([run.dataset, run.family, counterpart, metric, ours[metric]?.toFixed(4), theirs[metric]?.toFixed(4) ?? '-', seconds].join('\t'));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
