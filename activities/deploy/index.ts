import { eq } from 'drizzle-orm';
import { moveAliasIn } from '../../db/queries/aliases';
import { notifyEndpointChanged } from '../../db/queries/endpoints';
import { auditLog, endpointEvents, endpoints, modelVersions } from '../../db/schema';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import type { DeployInput, DeployResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { guardServing } from '../rollout/serving-guard';

export function createDeployActivities(deps: ActivityDeps) {
  return {
    /**
     * Points the endpoint's stable traffic at a model version and (unless told not to) moves the `production` alias, in one
     * transaction with the endpoint event and the audit entries; a retry finds its event and stops.
     */
    async deployModelVersion(input: DeployInput & { idempotencyKey: string }): Promise<DeployResult> {
      const actor = `workflow:${input.idempotencyKey}`;
      return deps.db.transaction(async (tx) => {
        const [version] = await tx.select().from(modelVersions).where(eq(modelVersions.id, input.modelVersionId));
        if (!version) throw new UserError('model_version_not_found', `Model version ${input.modelVersionId} does not exist.`, 404);

        // The row as it was before this deployment (DO UPDATE is a no-op that makes RETURNING work on conflict).
        const [endpoint] = await tx
          .insert(endpoints)
          .values({ id: newId('ep'), projectId: input.projectId, name: input.endpointName, status: 'live' })
          .onConflictDoUpdate({ target: [endpoints.projectId, endpoints.name], set: { name: input.endpointName } })
          .returning();
        if (!endpoint) throw new Error(`endpoint ${input.endpointName} was not written`);
        const result = { endpointId: endpoint.id, endpointName: endpoint.name, modelVersionId: version.id };

        const [done] = await tx.select().from(endpointEvents).where(eq(endpointEvents.idempotencyKey, input.idempotencyKey));
        if (done) return result;
        await guardServing(tx, { projectId: input.projectId, modelVersionId: version.id, endpointName: input.endpointName });

        await tx
          .update(endpoints)
          .set({ stableVersionId: version.id, canaryVersionId: null, canaryWeight: 0, status: 'live', failure: null, failureCause: null, updatedAt: new Date() })
          .where(eq(endpoints.id, endpoint.id));
        // Inference servers reload the endpoint when this commits (not before, and never if it rolls back).
        await notifyEndpointChanged(tx, endpoint.id);
        await tx.insert(endpointEvents).values({
          id: newId('epe'),
          endpointId: endpoint.id,
          kind: 'deploy',
          fromVersionId: endpoint.stableVersionId,
          toVersionId: version.id,
          trafficWeight: 100,
          reason: input.reason,
          idempotencyKey: input.idempotencyKey,
        });
        await tx.insert(auditLog).values({
          projectId: input.projectId,
          actor,
          action: 'endpoint.deployed',
          subjectType: 'endpoint',
          subjectId: endpoint.id,
          details: { endpoint: endpoint.name, from: endpoint.stableVersionId, to: version.id, reason: input.reason },
        });
        if (input.moveProductionAlias !== false) {
          // Pipelines without a promotion stage: the deployed version becomes production, in this same transaction.
          await moveAliasIn(tx, {
            projectId: input.projectId,
            modelId: version.modelId,
            alias: 'production',
            toVersionId: version.id,
            actor,
            reason: input.reason,
            workflowId: input.idempotencyKey,
            idempotencyKey: `${input.idempotencyKey}:production`,
          });
        }
        return result;
      });
    },
  };
}
