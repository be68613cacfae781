import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { RegistryEvent } from '../domain/registry-events';
import { deliverRegistryEvent } from './deliver-registry-event';

/** Guards the register stage's event publishing, so histories recorded before it replay. */
export const REGISTRY_EVENTS_PATCH = 'registry-events';

/** The delivery workflow's id: one per event, so publishing twice (a replayed or retried emitter) sends once. */
export function registryEventWorkflowId(eventId: string): string {
  return `registry-event:${eventId}`;
}

/**
 * Publishes a registry event from a workflow: starts its delivery as an abandoned child, so the emitter
 * neither waits for slow receivers nor takes the deliveries down when it completes.
 */
export async function publishRegistryEvent(event: RegistryEvent): Promise<void> {
  try {
    await startChild(deliverRegistryEvent, {
      workflowId: registryEventWorkflowId(event.id),
      args: [event],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Once delivered, an event is not delivered again, even if its emitter is reset and runs again.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}
