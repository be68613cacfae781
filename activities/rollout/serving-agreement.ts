import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { and, eq } from 'drizzle-orm';
import { liveServedRoutes } from '../../db/queries/served-routes';
import { endpoints } from '../../db/schema';
import { judgeServing, type AwaitServingAgreementInput, type ServingAgreement } from '../../domain/serving-agreement';
import { UserError } from '../../platform/user-error';
import type { ActivityDeps } from '../deps';

/** A server whose last heartbeat (every 10 s, see serving/routing-table.ts) is older than this is gone and ignored. */
export const SERVING_STALE_AFTER_MS = 30_000;
const CHECK_EVERY_MS = 200;

export function createServingAgreementActivities(deps: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Waits (at most `timeoutMs`) until every live server that holds the endpoint serves the versions the step asks
     * for, and answers at once when one of them could not load such a version. No live server holding the endpoint
     * agrees trivially: nobody answers with another version (and with no traffic, the gates see too little to pass).
     */
    async awaitServingAgreement(input: AwaitServingAgreementInput): Promise<ServingAgreement> {
      const [endpoint] = await deps.db.select({ id: endpoints.id }).from(endpoints).where(and(eq(endpoints.id, input.endpointId), eq(endpoints.projectId, input.projectId)));
      if (!endpoint) throw new UserError('endpoint_not_found', `There is no endpoint ${input.endpointId} in this project.`, 404, { field: 'endpointId' });
      const ctx = Context.current();
      const deadline = Date.now() + input.timeoutMs;
      for (;;) {
        const rows = await liveServedRoutes(deps.db, input.endpointId, new Date(Date.now() - SERVING_STALE_AFTER_MS));
        const agreement = judgeServing(rows, input.expected);
        if (agreement.agreed || agreement.loadFailure || Date.now() >= deadline) return agreement;
        ctx.heartbeat({ waitingFor: agreement.disagreeing.length });
        await sleep(CHECK_EVERY_MS, undefined, { signal: ctx.cancellationSignal });
      }
    },
  };
}
