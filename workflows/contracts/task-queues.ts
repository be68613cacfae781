/** Workflows and CPU activities. */
export const CPU_TASK_QUEUE = 'factory-cpu';
/** Training activities only; served by a worker with a GPU backend when one is installed. */
export const GPU_TASK_QUEUE = 'factory-gpu';

export type Accelerator = 'cpu' | 'gpu';

export function taskQueueFor(accelerator: Accelerator): string {
  return accelerator === 'gpu' ? GPU_TASK_QUEUE : CPU_TASK_QUEUE;
}
