import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface TsxProcess {
  child: ChildProcess;
  /** The last few kilobytes of stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves when a line of output matches, rejects if the process exits first or the time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once the process has exited (at once if it already has). */
  exited(): Promise<void>;
}

/**
 * Runs a TypeScript entry as `node --import tsx <entry>`: one process (no npx wrapper), so its pid is the
 * one to SIGKILL. `detached` gives it its own process group, so `process.kill(-pid)` also takes its children.
 */
export function spawnTsx(entry: string, env: NodeJS.ProcessEnv, opts: { detached?: boolean } = {}): TsxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-16_000);
    listeners.forEach((l) => l());
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exit.then(() => listeners.forEach((l) => l()), () => undefined);

  return {
    child,
    output: () => output,
    exited: () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : exit),
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = output.match(pattern);
          if (match) {
            done();
            resolve(match[0]);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${entry} did not print ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
