import { Context } from '@temporalio/activity';

/** The workflow that scheduled the current activity (every factory activity runs inside one). */
export function callingWorkflow(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('This activity must be scheduled by a workflow.');
  return execution;
}
