import type { ModelSpec } from '../domain/model';
import { seededShuffle } from './split';
import { tf } from './tf';

/** Everything needed to continue training exactly where it stopped; plain JSON. */
export interface TrainingCheckpoint {
  /** Last completed epoch, 1-based. */
  epoch: number;
  weights: number[][];
  optimizer: { name: string; shape: number[]; values: number[] }[];
  history: EpochLoss[];
}

export interface EpochLoss {
  epoch: number;
  loss: number;
}

export interface TrainEpochsOptions {
  model: tf.Sequential;
  /** Standardised features, row-major [n][inputSize]. */
  x: Float32Array;
  y: Float32Array;
  n: number;
  inputSize: number;
  spec: ModelSpec;
  resumeFrom?: TrainingCheckpoint;
  /** Called after every batch (a wide model on many rows can spend minutes in one epoch): keep it cheap. */
  onBatch?: (progress: { epoch: number; batch: number; batches: number }) => void;
  /** Called after every epoch; `checkpoint()` captures the state to resume from. */
  onEpoch: (progress: { epoch: number; epochs: number; loss: number }, checkpoint: () => Promise<TrainingCheckpoint>) => Promise<void>;
}

/**
 * Trains one epoch at a time. Each epoch's row order comes from (seed, epoch), and a checkpoint holds
 * the weights and the Adam state, so a run resumed from epoch k sees exactly what an uninterrupted one would.
 */
export async function trainEpochs(opts: TrainEpochsOptions): Promise<{ history: EpochLoss[] }> {
  const { model, spec, n, inputSize } = opts;
  const history: EpochLoss[] = [...(opts.resumeFrom?.history ?? [])];
  if (opts.resumeFrom) await restore(model, opts.resumeFrom);

  const batches = Math.ceil(n / spec.batchSize);
  for (let epoch = (opts.resumeFrom?.epoch ?? 0) + 1; epoch <= spec.epochs; epoch++) {
    const order = seededShuffle(Uint32Array.from({ length: n }, (_, i) => i), `epoch:${spec.seed}:${epoch}`);
    const xs = new Float32Array(n * inputSize);
    const ys = new Float32Array(n);
    order.forEach((row, i) => {
      xs.set(opts.x.subarray(row * inputSize, (row + 1) * inputSize), i * inputSize);
      ys[i] = opts.y[row] as number;
    });
    const xTensor = tf.tensor2d(xs, [n, inputSize]);
    const yTensor = tf.tensor2d(ys, [n, 1]);
    let loss: number;
    try {
      const { onBatch } = opts;
      const callbacks = onBatch && { onBatchEnd: (batch: number) => onBatch({ epoch, batch: batch + 1, batches }) };
      const fit = await model.fit(xTensor, yTensor, { epochs: 1, batchSize: spec.batchSize, shuffle: false, verbose: 0, callbacks });
      loss = Number(fit.history.loss?.[0]);
    } finally {
      xTensor.dispose();
      yTensor.dispose();
    }
    history.push({ epoch, loss });
    await opts.onEpoch({ epoch, epochs: spec.epochs, loss }, () => capture(model, epoch, history));
  }
  return { history };
}

async function capture(model: tf.Sequential, epoch: number, history: EpochLoss[]): Promise<TrainingCheckpoint> {
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  const optimizerWeights = await model.optimizer.getWeights();
  const optimizer = optimizerWeights.map(({ name, tensor }) => ({ name, shape: tensor.shape, values: Array.from(tensor.dataSync()) }));
  // The moments are the optimizer's live variables, but the iteration count is a fresh scalar we own.
  optimizerWeights.forEach(({ tensor }) => {
    if (!(tensor instanceof tf.Variable)) tensor.dispose();
  });
  return { epoch, weights, optimizer, history: [...history] };
}

async function restore(model: tf.Sequential, checkpoint: TrainingCheckpoint): Promise<void> {
  const current = model.getWeights();
  if (current.length !== checkpoint.weights.length) {
    throw new Error(`checkpoint has ${checkpoint.weights.length} weight tensors, the model ${current.length}`);
  }
  const weights = current.map((w, i) => tf.tensor(checkpoint.weights[i] as number[], w.shape));
  model.setWeights(weights);
  weights.forEach((w) => w.dispose());
  if (checkpoint.optimizer.length === 0) return;
  const optimizerWeights = checkpoint.optimizer.map(({ name, shape, values }) => ({ name, tensor: tf.tensor(values, shape) }));
  await model.optimizer.setWeights(optimizerWeights);
  // setWeights wraps each tensor in a new variable sharing its data, so our handles can go.
  optimizerWeights.forEach(({ tensor }) => tensor.dispose());
}
