import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleDevServer, writeDevServerPid } from '../../platform/dev-server-pid-file';

/** Stand-ins for an orphaned `temporal server start-dev`: only the command line matters to the check. */
function sleeper(...args: string[]) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

describe('stopStaleDevServer', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-pid-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('stops the dev server recorded for this FACTORY_HOME and removes the pid file', async () => {
    const dbFile = path.join(home, 'temporal.sqlite');
    const orphan = sleeper('server', 'start-dev', '--db-filename', dbFile);
    const pidFile = path.join(home, 'a.pid');
    await writeDevServerPid(pidFile, orphan.child.pid as number);
    await stopStaleDevServer(pidFile, dbFile, () => {});
    await orphan.exited;
    expect(orphan.child.signalCode).toBe('SIGTERM');
    expect(existsSync(pidFile)).toBe(false);
  });

  it('leaves alone a process that reused the pid but is something else', async () => {
    const other = sleeper('not-temporal');
    const pidFile = path.join(home, 'b.pid');
    await writeDevServerPid(pidFile, other.child.pid as number);
    await stopStaleDevServer(pidFile, path.join(home, 'temporal.sqlite'), () => {});
    expect(other.child.exitCode).toBeNull();
    expect(other.child.signalCode).toBeNull();
    expect(existsSync(pidFile)).toBe(false);
    other.child.kill();
    await other.exited;
  });

  it('does nothing without a pid file', async () => {
    await expect(stopStaleDevServer(path.join(home, 'none.pid'), 'x', () => {})).resolves.toBeUndefined();
  });
});
