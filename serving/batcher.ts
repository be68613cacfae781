import { performance } from 'node:perf_hooks';

/** Runs a model on row-major `x` [rows, features]; returns its output row-major ([rows, k]). */
export type ModelRun = (x: Float32Array, rows: number) => Promise<Float32Array>;

export interface BatcherOptions {
  enabled: boolean;
  /** Most rows in one run; a single request larger than this runs alone. */
  maxRows: number;
  /**
   * Longest a request waits for others to join its run. 0: a run starts as soon as the previous run of the
   * same version has finished, with whatever arrived meanwhile.
   */
  maxDelayMs: number;
  /** Rows of every run, for the batch-size histogram (`label` as given to `run`). */
  onRun?: (label: string, rows: number) => void;
}

interface Waiting {
  x: Float32Array;
  rows: number;
  run: ModelRun;
  arrived: number;
  resolve: (output: Float32Array) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  label: string;
  waiting: Waiting[];
  rows: number;
  running: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Dynamic batching (as Triton's dynamic batcher): concurrent requests to one model version are merged
 * into one onnxruntime run, one run per version at a time, and each request gets its own slice of the outputs.
 */
export class InferenceBatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly opts: BatcherOptions) {}

  /** Runs `rows` rows of `x` for the model `key` (a version id), batched with whatever else is waiting for it. */
  run(key: string, x: Float32Array, rows: number, run: ModelRun, label: string = key): Promise<Float32Array> {
    if (!this.opts.enabled) {
      this.opts.onRun?.(label, rows);
      return run(x, rows);
    }
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { label, waiting: [], rows: 0, running: false };
      this.queues.set(key, queue);
    }
    const q = queue;
    const answer = new Promise<Float32Array>((resolve, reject) => q.waiting.push({ x, rows, run, arrived: performance.now(), resolve, reject }));
    q.rows += rows;
    this.schedule(key, q);
    return answer;
  }

  private schedule(key: string, q: Queue): void {
    if (q.running || q.waiting.length === 0) return;
    if (this.opts.maxDelayMs === 0 || q.rows >= this.opts.maxRows) {
      this.start(key, q);
      return;
    }
    // Measured from the oldest request still waiting, so none waits longer than maxDelayMs for company.
    const oldest = (q.waiting[0] as Waiting).arrived;
    q.timer ??= setTimeout(
      () => {
        q.timer = undefined;
        if (!q.running) this.start(key, q);
      },
      Math.max(0, oldest + this.opts.maxDelayMs - performance.now()),
    );
  }

  private start(key: string, q: Queue): void {
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    let count = 0;
    let rows = 0;
    for (const next of q.waiting) {
      if (count > 0 && rows + next.rows > this.opts.maxRows) break;
      count++;
      rows += next.rows;
    }
    const batch = q.waiting.splice(0, count);
    q.rows -= rows;
    q.running = true;
    void this.execute(q.label, batch, rows).finally(() => {
      q.running = false;
      if (q.waiting.length === 0 && !q.timer) this.queues.delete(key);
      else this.schedule(key, q);
    });
  }

  private async execute(label: string, batch: Waiting[], rows: number): Promise<void> {
    const first = batch[0] as Waiting;
    this.opts.onRun?.(label, rows);
    if (batch.length === 1) {
      await first.run(first.x, first.rows).then(first.resolve, first.reject);
      return;
    }
    const width = first.x.length / first.rows;
    const x = new Float32Array(rows * width);
    let offset = 0;
    for (const w of batch) {
      x.set(w.x, offset);
      offset += w.x.length;
    }
    let output: Float32Array;
    try {
      output = await first.run(x, rows);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    const perRow = output.length / rows;
    let row = 0;
    for (const w of batch) {
      w.resolve(output.slice(row * perRow, (row + w.rows) * perRow));
      row += w.rows;
    }
  }
}
