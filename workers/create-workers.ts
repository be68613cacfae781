import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, createTrainingActivities, type ActivityDeps } from '../activities';
import type { TaskQueues } from '../workflows/contracts';
import { UserErrorInterceptor } from './user-error-interceptor';
import { workflowBundleOption } from './workflow-bundle';

interface WorkerContext {
  connection: NativeConnection;
  namespace: string;
  deps: ActivityDeps;
  taskQueues: TaskQueues;
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Milliseconds in-flight activities may finish after shutdown before they are cancelled (and retried elsewhere). */
  shutdownGraceTimeMs?: number;
}

const interceptors: WorkerOptions['interceptors'] = { activity: [() => ({ inbound: new UserErrorInterceptor() })] };

/** factory-cpu: every workflow and every activity (training too, for CPU-only runs). */
export async function createCpuWorker(ctx: WorkerContext): Promise<Worker> {
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.namespace,
    taskQueue: ctx.taskQueues.cpu,
    workflowBundle: ctx.workflowBundle ?? (await workflowBundleOption()),
    activities: createActivities({ ...ctx.deps, preferGpu: false }),
    interceptors,
    shutdownGraceTime: ctx.shutdownGraceTimeMs ?? 10_000,
  });
}

/** factory-gpu: training activities only, on the GPU binding when one is installed. */
export async function createGpuWorker(ctx: WorkerContext): Promise<Worker> {
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.namespace,
    taskQueue: ctx.taskQueues.gpu,
    activities: createTrainingActivities({ ...ctx.deps, preferGpu: true }),
    interceptors,
    // One training at a time: a GPU's memory is the scarce resource.
    maxConcurrentActivityTaskExecutions: 1,
    shutdownGraceTime: ctx.shutdownGraceTimeMs ?? 10_000,
  });
}
