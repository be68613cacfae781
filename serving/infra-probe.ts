import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChildMessage, ParentMessage } from './infra-protocol';
import type { InfraValidationResult } from '../domain/infra-validation';

export interface InfraProbeOptions {
  onnx: Uint8Array;
  /** Sample rows, row-major [n][width], raw features as served. */
  x: Float32Array;
  n: number;
  width: number;
  outputName: string;
  /** Values per row the output must have. */
  outputWidth: number;
  /** Classifier outputs must be probabilities: in [0, 1], each row summing to 1. */
  probabilities: boolean;
  latencyBudgetMs: number;
  /** One-row calls timed for the latency check. */
  latencyCalls?: number;
  loadTimeoutMs?: number;
  callTimeoutMs?: number;
  /** Called after each call, e.g. to heartbeat. */
  progress?: () => void;
}

export type InfraProbeResult = InfraValidationResult;

export type InfraProbeReason = 'load' | 'crash' | 'timeout' | 'output' | 'latency';

/** The candidate failed infra-validation; `reason` says how. */
export class InfraProbeFailure extends Error {
  override readonly name = 'InfraProbeFailure';
  constructor(
    readonly reason: InfraProbeReason,
    message: string,
  ) {
    super(message);
  }
}

/** The child entry next to this file: .ts under tsx/vitest, .js when compiled. */
function childCommand(): { entry: string; execArgv: string[] } {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `infra-child${extension}`);
  const execArgv = runtimeFlags(process.execArgv);
  // A TypeScript entry needs tsx's loader; a parent already running under tsx passes it on in execArgv.
  if (extension === '.ts' && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  return { entry, execArgv };
}

/** The parent's node flags without an inline script (`node -e …` would run that script again instead of the child). */
export function runtimeFlags(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i] as string;
    if (['-e', '--eval', '-p', '--print'].includes(flag)) i++;
    else if (!/^--(eval|print)=/.test(flag)) flags.push(flag);
  }
  return flags;
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/**
 * Loads the model with the serving runtime in a separate process, scores the sample rows in one batch,
 * checks the outputs' shape and finiteness, then times one-row calls against the p99 budget. The child is
 * killed on any failure or timeout, so a model that crashes or hangs onnxruntime fails here, not in serving.
 */
export async function probeModelInChildProcess(opts: InfraProbeOptions): Promise<InfraProbeResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-infra-'));
  const modelPath = path.join(dir, 'model.onnx');
  await writeFile(modelPath, opts.onnx);
  const { entry, execArgv } = childCommand();
  const child = spawn(process.execPath, [...execArgv, entry, modelPath], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
  const channel = new ChildChannel(child);
  try {
    await channel.ready(opts.loadTimeoutMs ?? 30_000);
    const callTimeout = opts.callTimeoutMs ?? 10_000;
    const batch = await channel.run({ x: Array.from(opts.x), n: opts.n, width: opts.width, outputName: opts.outputName }, callTimeout);
    checkOutputs(batch.outputs, batch.dims, opts);
    opts.progress?.();

    const calls = opts.latencyCalls ?? 100;
    const warmUp = Math.min(5, opts.n);
    const times: number[] = [];
    for (let k = 0; k < calls + warmUp; k++) {
      const row = k % opts.n;
      const single = await channel.run({ x: Array.from(opts.x.subarray(row * opts.width, (row + 1) * opts.width)), n: 1, width: opts.width, outputName: opts.outputName }, callTimeout);
      if (k >= warmUp) times.push(single.ms);
      if (k % 20 === 0) opts.progress?.();
    }
    times.sort((a, b) => a - b);
    const result = { rows: opts.n, latencyCalls: calls, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), maxMs: times.at(-1) ?? 0, latencyBudgetMs: opts.latencyBudgetMs };
    if (result.p99Ms > opts.latencyBudgetMs) {
      throw new InfraProbeFailure('latency', `p99 latency of one-row calls is ${result.p99Ms.toFixed(3)} ms, over the budget of ${opts.latencyBudgetMs} ms (p50 ${result.p50Ms.toFixed(3)} ms, ${calls} calls).`);
    }
    channel.send({ type: 'exit' });
    return result;
  } finally {
    channel.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

function checkOutputs(outputs: number[], dims: number[], opts: InfraProbeOptions): void {
  const expected = [opts.n, opts.outputWidth];
  if (dims.length !== 2 || dims[0] !== opts.n || dims[1] !== opts.outputWidth || outputs.length !== opts.n * opts.outputWidth) {
    throw new InfraProbeFailure('output', `"${opts.outputName}" has shape [${dims.join(', ')}] for ${opts.n} rows; the serving contract is [${expected.join(', ')}].`);
  }
  const bad = outputs.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InfraProbeFailure('output', `"${opts.outputName}" is ${outputs[bad]} on sample row ${Math.floor(bad / opts.outputWidth)}; every output must be a finite number.`);
  if (opts.probabilities) {
    for (let row = 0; row < opts.n; row++) {
      const values = outputs.slice(row * opts.outputWidth, (row + 1) * opts.outputWidth);
      const total = values.reduce((a, b) => a + b, 0);
      if (values.some((v) => v < -1e-6 || v > 1 + 1e-6) || Math.abs(total - 1) > 1e-3) {
        throw new InfraProbeFailure('output', `"${opts.outputName}" on sample row ${row} is [${values.map((v) => v.toFixed(4)).join(', ')}], which are not probabilities summing to 1.`);
      }
    }
  }
}

/** Request/answer over the child's IPC channel; the child exiting or a call overrunning its time rejects at once. */
class ChildChannel {
  private nextId = 1;
  private stderr = '';
  private waiters = new Set<{ accept: (m: ChildMessage) => boolean; fail: (e: InfraProbeFailure) => void }>();
  private exited: InfraProbeFailure | null = null;
  private lastError: string | null = null;

  constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'error') this.lastError = message.message;
      for (const w of this.waiters) if (w.accept(message)) this.waiters.delete(w);
    });
    child.on('exit', (code, signal) => {
      const why = this.lastError ?? (this.stderr.trim().split('\n').slice(-3).join(' ') || 'no output');
      this.exited = new InfraProbeFailure(code === 2 ? 'load' : 'crash', `The serving runtime process exited (${signal ?? `code ${code}`}): ${why}`);
      for (const w of this.waiters) w.fail(this.exited);
      this.waiters.clear();
    });
  }

  send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  ready(timeoutMs: number): Promise<void> {
    return this.wait((m) => m.type === 'ready' || (m.type === 'error' && m.id === null), timeoutMs, 'load the model').then((m) => {
      if (m.type === 'error') throw new InfraProbeFailure('load', `The serving runtime cannot load the model: ${m.message}`);
    });
  }

  async run(call: Omit<Extract<ParentMessage, { type: 'run' }>, 'type' | 'id'>, timeoutMs: number): Promise<{ outputs: number[]; dims: number[]; ms: number }> {
    const id = this.nextId++;
    const answer = this.wait((m) => (m.type === 'result' || m.type === 'error') && m.id === id, timeoutMs, `score ${call.n} row(s)`);
    this.send({ type: 'run', id, ...call });
    const m = await answer;
    if (m.type !== 'result') throw new InfraProbeFailure('crash', `The serving runtime failed to score ${call.n} row(s): ${m.type === 'error' ? m.message : m.type}`);
    return m;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private wait(match: (m: ChildMessage) => boolean, timeoutMs: number, what: string): Promise<ChildMessage> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const waiter = {
        accept: (m: ChildMessage) => {
          if (!match(m)) return false;
          clearTimeout(timer);
          resolve(m);
          return true;
        },
        fail: (e: InfraProbeFailure) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        this.kill();
        reject(new InfraProbeFailure('timeout', `The serving runtime did not ${what} within ${timeoutMs} ms; the process was killed.`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
