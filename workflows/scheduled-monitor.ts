import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { executeChild, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { MonitorEndpointResult } from '../domain/monitoring';
import { factorySearchAttributes, monitorWorkflowId } from './contracts';
import { monitorEndpoint } from './monitor';

/** Set by the Temporal server on every run a Schedule starts: the time the run was due (a trigger's or a backfill's too). */
const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export interface ScheduledMonitorInput {
  projectId: string;
  endpointName: string;
  scheduleName: string;
  /** Each run covers [scheduled time - windowMs, scheduled time). */
  windowMs: number;
}

export interface ScheduledMonitorResult {
  monitorWorkflowId: string;
  window: { from: string; to: string };
  /** Null when a monitor run of the same window existed already (its reports are stored under its id). */
  result: MonitorEndpointResult | null;
}

/**
 * What a `monitor` schedule starts: the window ends at the run's scheduled time, so a late, caught-up or
 * backfilled run covers the window it was due for, not the time it happened to start. The monitor runs as a
 * child under the window's id, so a manual monitor of the same window and this one never both compute it.
 */
export async function scheduledMonitor(input: ScheduledMonitorInput): Promise<ScheduledMonitorResult> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(TemporalScheduledStartTime) ?? info.startTime;
  const window = { from: new Date(scheduledAt.getTime() - input.windowMs).toISOString(), to: new Date(scheduledAt.getTime()).toISOString() };
  const monitorId = monitorWorkflowId(input.projectId, input.endpointName, window.from, window.to);
  setCurrentDetails(`schedule ${input.scheduleName}: monitoring ${input.endpointName} over [${window.from}, ${window.to}) as ${monitorId}`);
  try {
    const result = await executeChild(monitorEndpoint, {
      workflowId: monitorId,
      args: [{ projectId: input.projectId, endpointName: input.endpointName, ...window, requestedBy: `schedule:${input.scheduleName}` }],
      memo: { projectId: input.projectId },
      typedSearchAttributes: factorySearchAttributes({ projectId: input.projectId, endpoint: input.endpointName }),
      staticSummary: `monitor ${input.endpointName} over [${window.from}, ${window.to})`,
      // The same rule as POST /monitor: a completed window is not monitored again, a failed one may be.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { monitorWorkflowId: monitorId, window, result };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    setCurrentDetails(`schedule ${input.scheduleName}: the window was already monitored by ${monitorId}`);
    return { monitorWorkflowId: monitorId, window, result: null };
  }
}
