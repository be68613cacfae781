import { openDatabase } from '../../db/client';
import { startFactory } from '../../factory/start-factory';
import { createLogger } from '../../platform/logger';
import { installTemporalLogger } from '../../platform/temporal-logger';

/**
 * A factory-gpu training worker in its own process, so a test can SIGKILL it like a crashed machine.
 * Run with `node --import tsx test/support/worker-process.ts`; everything comes from the environment
 * (DATABASE_URL, TEMPORAL_ADDRESS, ARTIFACT_ROOT, CPU_TASK_QUEUE, GPU_TASK_QUEUE; WORKER_PARTS=cpu for a factory-cpu
 * worker instead, WORKFLOW_BUNDLE to load a pre-built bundle). Prints "ready" once polling.
 */
async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'error');
  installTemporalLogger(logger);
  const database = await openDatabase({ url: env('DATABASE_URL') });
  await startFactory({
    db: database.db,
    artifactRoot: env('ARTIFACT_ROOT'),
    temporalAddress: env('TEMPORAL_ADDRESS'),
    namespace: 'default',
    taskQueues: { cpu: env('CPU_TASK_QUEUE'), gpu: env('GPU_TASK_QUEUE') },
    logger,
    parts: process.env.WORKER_PARTS === 'cpu' ? { cpuWorker: true } : { gpuWorker: true },
    ...(process.env.WORKFLOW_BUNDLE && { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE } }),
    maxUploadBytes: 1,
  });
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
