import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import seedrandom from 'seedrandom';
import { readCsvDataset } from '../data/read-csv';
import type { ModelSpec } from '../domain/model';
import { exportOnnx } from '../ml/onnx-export';
import { applyStandardisation, computeStandardisation } from '../ml/standardise';
import { initTfBackend } from '../ml/tf-backend';
import { buildTfModel, toTrainedModel } from '../ml/tf-model';
import { trainEpochs } from '../ml/train-loop';
import { loadOnnxSession, runOnnxModel } from '../serving/onnx-session';
import { recordsToMatrix } from '../serving/validate-records';
import { benchPgliteFreeze } from './pglite-freeze';
import { benchServingHttp } from './serving';

/**
 * `npm run bench`: figures for ingest, training and serving on this machine. Not part of npm test.
 * `-- --serving-only` runs only the serving figures; `--postgres[=<url>]` (or DATABASE_URL) adds PostgreSQL;
 * `--duration=<seconds>` sets each HTTP load run (10 by default). `--pglite-freeze[=<rows>]` runs only the
 * predict-latency-during-a-drift-scan figures on PGlite (1,000,000 rows by default; bench/pglite-freeze.ts).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const postgres = flag('postgres');
  const postgresUrl = postgres?.includes('=') ? postgres.slice(postgres.indexOf('=') + 1) : process.env.DATABASE_URL;
  if (postgres && !postgresUrl) throw new Error('--postgres needs a URL (--postgres=postgres://…) or DATABASE_URL');
  const duration = flag('duration');
  const durationSeconds = duration ? Number(duration.slice(duration.indexOf('=') + 1)) : 10;
  const rows: string[][] = [];
  const freeze = flag('pglite-freeze');
  if (freeze) {
    rows.push(...(await benchPgliteFreeze({ rows: freeze.includes('=') ? Number(freeze.slice(freeze.indexOf('=') + 1)) : 1_000_000, durationSeconds })));
  } else if (!flag('serving-only')) {
    rows.push(...(await benchIngest()));
    rows.push(...(await benchTraining()));
  }
  if (!freeze) {
    rows.push(...(await benchServing()));
    rows.push(...(await benchServingHttp({ durationSeconds, postgresUrl })));
  }
  const width = Math.max(...rows.map((r) => (r[0] ?? '').length));
  for (const [name, value] of rows) console.log(`${(name ?? '').padEnd(width)}  ${value}`);
}

function* csvChunks(n: number): Generator<string> {
  const random = seedrandom('bench');
  yield 'tenure,spend,noise,region,churned\n';
  for (let start = 0; start < n; start += 10_000) {
    let chunk = '';
    for (let i = start; i < Math.min(n, start + 10_000); i++) {
      chunk += `${Math.round(random() * 60)},${(random() * 200).toFixed(1)},${(random() - 0.5).toFixed(3)},r${i % 7},${random() > 0.5 ? 'yes' : 'no'}\n`;
    }
    yield chunk;
  }
}

async function benchIngest(): Promise<string[][]> {
  const n = 500_000;
  const bytes = [...csvChunks(n)].reduce((s, c) => s + Buffer.byteLength(c), 0);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  await readCsvDataset(() => Readable.from(csvChunks(n)));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return [
    ['ingest: rows (5 columns)', n.toLocaleString('en')],
    ['ingest: parse + infer + stats, rows/s', Math.round(n / seconds).toLocaleString('en')],
    ['ingest: MB/s of CSV', ((bytes / 1e6) / seconds).toFixed(1)],
    ['ingest: peak RSS growth, MB', ((peak - rssBefore) / 1e6).toFixed(0)],
  ];
}

function dataset(n: number): { x: Float32Array; y: Float32Array } {
  const random = seedrandom('bench-train');
  const x = new Float32Array(n * 8);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let score = 0;
    for (let j = 0; j < 8; j++) {
      const v = random() * 2 - 1;
      x[i * 8 + j] = v;
      score += v * (j % 2 === 0 ? 1 : -0.5);
    }
    y[i] = score > 0 ? 1 : 0;
  }
  return { x, y };
}

async function benchTraining(): Promise<string[][]> {
  const { backend } = await initTfBackend({ preferGpu: true });
  const n = 20_000;
  const { x: raw, y } = dataset(n);
  const x = applyStandardisation(raw, n, computeStandardisation(raw, n, 8));
  const out: string[][] = [[`training backend`, backend]];
  for (const spec of [
    { type: 'logistic', hiddenUnits: [] },
    { type: 'mlp', hiddenUnits: [32, 16] },
  ] as const) {
    const full: ModelSpec = { ...spec, hiddenUnits: [...spec.hiddenUnits], epochs: 5, learningRate: 0.01, batchSize: 64, seed: 1, testFraction: 0.2 };
    const model = buildTfModel(full, 8);
    const started = performance.now();
    await trainEpochs({ model, x, y, n, inputSize: 8, spec: full, onEpoch: async (_p, checkpoint) => void (await checkpoint()) });
    const perEpoch = (performance.now() - started) / 5;
    model.dispose();
    out.push([`train ${spec.type}${spec.type === 'mlp' ? ' [32,16]' : ''}: ms/epoch (20k rows, 8 features, with checkpoint)`, perEpoch.toFixed(0)]);
  }
  return out;
}

async function benchServing(): Promise<string[][]> {
  const spec: ModelSpec = { type: 'mlp', hiddenUnits: [32, 16], epochs: 1, learningRate: 0.01, batchSize: 64, seed: 1, testFraction: 0.2 };
  const features = Array.from({ length: 8 }, (_, j) => `f${j}`);
  const model = buildTfModel(spec, 8);
  const tm = toTrainedModel(model, { family: 'mlp', features, standardisation: { mean: Array(8).fill(0) as number[], std: Array(8).fill(1) as number[] }, classes: ['no', 'yes'] });
  model.dispose();
  const session = await loadOnnxSession(exportOnnx(tm));
  const out: string[][] = [];
  for (const batch of [1, 100, 1000]) {
    const records = Array.from({ length: batch }, (_, i) => Object.fromEntries(features.map((f, j) => [f, (i * 7 + j) % 13])));
    const times: number[] = [];
    const iterations = batch === 1000 ? 300 : 2000;
    for (let k = 0; k < iterations; k++) {
      const started = performance.now();
      await runOnnxModel(session, recordsToMatrix(records, features), batch, 8, 'probabilities');
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p = (q: number) => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(3);
    const rowsPerSecond = Math.round((batch * times.length) / (times.reduce((s, t) => s + t, 0) / 1000));
    out.push([`serve batch ${batch}: p50 / p99 ms (validate + onnxruntime)`, `${p(0.5)} / ${p(0.99)}`]);
    out.push([`serve batch ${batch}: rows/s`, rowsPerSecond.toLocaleString('en')]);
  }
  return out;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
