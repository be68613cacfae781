import type { ApiDeps } from './deps';

/** Where a client polls a workflow it started (the Location of a 202). */
export function workflowStatusPath(workflowId: string): string {
  return `/v1/workflows/${encodeURIComponent(workflowId)}`;
}

/** A link to the workflow in the Temporal Web UI, when one runs. */
export function temporalUiLink(deps: Pick<ApiDeps, 'temporalUiUrl' | 'temporalNamespace'>, workflowId: string): { temporalUi?: string } {
  return deps.temporalUiUrl ? { temporalUi: `${deps.temporalUiUrl}/namespaces/${deps.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}` } : {};
}
