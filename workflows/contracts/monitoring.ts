/** One monitor run per endpoint and window: asking for the same window again finds the run (and reports) already there. */
export function monitorWorkflowId(projectId: string, endpointName: string, from: string, to: string): string {
  return `monitor-${endpointName}-${projectId}-${from}-${to}`;
}

/** The webhook event of one drifted report: its delivery runs once however often the run is retried or replayed. */
export function driftEventId(reportId: string): string {
  return `endpoint.drift_detected:${reportId}`;
}
