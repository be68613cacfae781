import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from './logger';

let installed = false;

/** Routes the Temporal SDK's worker and activity logs into our structured logger (once per process). */
export function installTemporalLogger(logger: Logger): void {
  if (installed) return;
  installed = true;
  const sdkLogger = new DefaultLogger('INFO', (entry) => {
    const meta: LogMetadata = entry.meta ?? {};
    const level = entry.level.toLowerCase() as Lowercase<LogLevel>;
    const method = level === 'trace' ? 'trace' : level;
    logger[method]({ ...meta, source: 'temporal' }, entry.message);
  });
  try {
    Runtime.install({ logger: sdkLogger });
  } catch {
    // Already installed by this process (a test runner re-using a worker): keep the existing one.
  }
}
