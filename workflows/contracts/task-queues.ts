/** Workflows and CPU activities. */
export const CPU_TASK_QUEUE = 'factory-cpu';
/** Training activities only; served by a worker with a GPU backend when one is installed. */
export const GPU_TASK_QUEUE = 'factory-gpu';

export type Accelerator = 'cpu' | 'gpu';

/** The queue names a factory uses (tests give each file its own pair so they can run side by side). */
export interface TaskQueues {
  cpu: string;
  gpu: string;
}
