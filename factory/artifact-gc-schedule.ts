import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { collectArtifacts } from '../workflows';

export interface ArtifactGcScheduleOptions {
  scheduleId: string;
  /** How often to collect, e.g. '1 day'. */
  every: string;
  graceMs: number;
  taskQueue: string;
}

/**
 * Creates the Temporal Schedule that collects unreferenced artifacts, or brings an existing one up to
 * date: every process may call it at start-up and the schedule exists once.
 */
export async function ensureArtifactGcSchedule(client: Client, opts: ArtifactGcScheduleOptions): Promise<void> {
  const schedule: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof collectArtifacts>> = {
    scheduleId: opts.scheduleId,
    spec: { intervals: [{ every: opts.every }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: collectArtifacts,
      workflowId: `${opts.scheduleId}-run`,
      taskQueue: opts.taskQueue,
      args: [{ graceMs: opts.graceMs }],
    },
    // A collection still running when the next is due makes the next one pointless; a missed one can wait for the next.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  };
  try {
    await client.schedule.create(schedule);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(opts.scheduleId).update((previous) => ({ ...previous, spec: schedule.spec, action: schedule.action, policies: schedule.policies }));
  }
}
