import { inject } from 'vitest';
import { spawnTsx, type TsxProcess } from './child-process';
import type { TestFactory } from './test-factory';

/**
 * Worker processes a crash test can SIGKILL: each runs test/support/worker-process.ts against the suite's
 * Temporal server and the test factory's database (its `databaseUrl`: start it with `database: 'own-process'`
 * when the suite runs on PGlite), queues and artifacts. `parts` is WORKER_PARTS
 * (absent: the GPU queue's worker). `killAll` ends every one still running, for afterAll.
 */
export function killableWorkers(factory: () => TestFactory, parts?: 'cpu') {
  const workers: TsxProcess[] = [];
  return {
    async start(): Promise<TsxProcess> {
      const t = factory();
      if (!t.databaseUrl) throw new Error("a worker process needs a database it can reach: start the test factory with database: 'own-process'");
      const worker = spawnTsx('test/support/worker-process.ts', {
        DATABASE_URL: t.databaseUrl,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        ARTIFACT_ROOT: t.artifactRoot,
        CPU_TASK_QUEUE: t.taskQueues.cpu,
        GPU_TASK_QUEUE: t.taskQueues.gpu,
        ...(parts && { WORKER_PARTS: parts, WORKFLOW_BUNDLE: inject('workflowBundlePath') }),
      });
      workers.push(worker);
      await worker.waitForOutput(/^ready$/m);
      return worker;
    },
    async killAll(): Promise<void> {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited()));
    },
  };
}
