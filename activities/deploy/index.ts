import { and, eq } from 'drizzle-orm';
import { auditLog, endpointEvents, endpoints, modelAliases, modelVersions } from '../../db/schema';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import type { DeployInput, DeployResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

export function createDeployActivities(deps: ActivityDeps) {
  return {
    /**
     * Points the endpoint's stable traffic at a model version and moves the `production` alias, in one
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

        await tx
          .update(endpoints)
          .set({ stableVersionId: version.id, canaryVersionId: null, canaryWeight: 0, status: 'live', failure: null, failureCause: null, updatedAt: new Date() })
          .where(eq(endpoints.id, endpoint.id));
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
        const [previousAlias] = await tx
          .select()
          .from(modelAliases)
          .where(and(eq(modelAliases.modelId, version.modelId), eq(modelAliases.alias, 'production')));
        await tx
          .insert(modelAliases)
          .values({ modelId: version.modelId, alias: 'production', modelVersionId: version.id })
          .onConflictDoUpdate({
            target: [modelAliases.modelId, modelAliases.alias],
            set: { modelVersionId: version.id, updatedAt: new Date() },
          });
        await tx.insert(auditLog).values([
          {
            projectId: input.projectId,
            actor,
            action: 'endpoint.deployed',
            subjectType: 'endpoint',
            subjectId: endpoint.id,
            details: { endpoint: endpoint.name, from: endpoint.stableVersionId, to: version.id, reason: input.reason },
          },
          {
            projectId: input.projectId,
            actor,
            action: 'model_alias.moved',
            subjectType: 'model',
            subjectId: version.modelId,
            details: { alias: 'production', from: previousAlias?.modelVersionId ?? null, to: version.id },
          },
        ]);
        return result;
      });
    },
  };
}
