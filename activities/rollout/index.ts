import { versionNamesByIds } from '../../db/queries/models';
import { and, eq, inArray } from 'drizzle-orm';
import { moveAliasIn } from '../../db/queries/aliases';
import { notifyEndpointChanged } from '../../db/queries/endpoints';
import { auditLog, endpointEvents, endpoints, models, modelVersions } from '../../db/schema';
import type { EndpointRolloutSummary } from '../../domain/rollout';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import type { EndpointTraffic, TrafficChange, TrafficChangeResult, VersionRef } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { createHandoverActivities } from './handover';
import { createServingAgreementActivities } from './serving-agreement';
import { guardServing } from './serving-guard';

/** What the audit log calls each kind of traffic change (`endpoint.deployed` as the deploy workflow wrote it before). */
const AUDIT_ACTION: Record<TrafficChange['kind'], string> = {
  deploy: 'endpoint.deployed',
  canary: 'endpoint.canary_weight_set',
  shadow: 'endpoint.shadow_set',
  promote: 'endpoint.promoted',
  rollback: 'endpoint.rolled_back',
  abort: 'endpoint.rollout_aborted',
  simulation_failed: 'endpoint.simulation_failed',
};

/** Traffic changes that put their `to` version into service (a rollback or abort returns to one that served). */
const SERVING_KINDS: ReadonlySet<TrafficChange['kind']> = new Set(['deploy', 'canary', 'shadow', 'promote']);

export function createRolloutActivities(deps: ActivityDeps) {
  return {
    ...createHandoverActivities(deps),
    ...createServingAgreementActivities(deps),

    /** The endpoint's traffic as the database has it, for a controller that starts on an endpoint deployed before it existed. */
    async readEndpointTraffic(input: { projectId: string; endpointName: string }): Promise<EndpointTraffic | null> {
      const [endpoint] = await deps.db.select().from(endpoints).where(and(eq(endpoints.projectId, input.projectId), eq(endpoints.name, input.endpointName)));
      if (!endpoint) return null;
      const refs = await versionNamesByIds(deps.db, [endpoint.stableVersionId, endpoint.canaryVersionId, endpoint.shadowVersionId]);
      const ref = (id: string | null): VersionRef | null => (id ? (refs.get(id) ?? null) : null);
      const canary = ref(endpoint.canaryVersionId);
      return {
        endpointId: endpoint.id,
        stable: ref(endpoint.stableVersionId),
        canary: canary && endpoint.canaryWeight > 0 ? { ...canary, weight: endpoint.canaryWeight } : null,
        shadow: ref(endpoint.shadowVersionId),
      };
    },

    /** Writes how a rollout stands on the endpoint row (no traffic change): its final status once it ends; inference servers reload their rollout gauges. */
    async recordRolloutSummary(input: { projectId: string; endpointName: string; summary: Omit<EndpointRolloutSummary, 'updatedAt'> }): Promise<void> {
      const now = new Date();
      await deps.db.transaction(async (tx) => {
        const updated = await tx
          .update(endpoints)
          .set({ rollout: { ...input.summary, updatedAt: now.toISOString() }, updatedAt: now })
          .where(and(eq(endpoints.projectId, input.projectId), eq(endpoints.name, input.endpointName)))
          .returning({ id: endpoints.id });
        for (const { id } of updated) await notifyEndpointChanged(tx, id);
      });
    },

    /**
     * Writes one traffic change in one transaction: the endpoint row (created on the first deploy) with its rollout
     * summary, the endpoint event with its reason, the audit entry, the alias move when asked, and the NOTIFY that
     * tells inference servers to reload. A retry (or a replay after a crash) finds its event by key and writes nothing.
     */
    async applyTrafficChange(change: TrafficChange): Promise<TrafficChangeResult> {
      const wanted = [change.stableVersionId, change.canaryVersionId, change.shadowVersionId].filter((id): id is string => id !== null);
      return deps.db.transaction(async (tx) => {
        const owned = wanted.length
          ? await tx
              .select({ id: modelVersions.id, modelId: modelVersions.modelId })
              .from(modelVersions)
              .innerJoin(models, eq(models.id, modelVersions.modelId))
              .where(and(inArray(modelVersions.id, wanted), eq(models.projectId, change.projectId)))
          : [];
        const missing = wanted.find((id) => !owned.some((v) => v.id === id));
        if (missing) throw new UserError('model_version_not_found', `Model version ${missing} does not exist in this project.`, 404, { field: 'version' });

        // The row as it was before (DO UPDATE is a no-op that makes RETURNING work on conflict); locked for the change.
        const [endpoint] = await tx
          .insert(endpoints)
          .values({ id: newId('ep'), projectId: change.projectId, name: change.endpointName, status: 'live' })
          .onConflictDoUpdate({ target: [endpoints.projectId, endpoints.name], set: { name: change.endpointName } })
          .returning();
        if (!endpoint) throw new Error(`endpoint ${change.endpointName} was not written`);

        const [done] = await tx.select().from(endpointEvents).where(eq(endpointEvents.idempotencyKey, change.idempotencyKey));
        if (done) return { endpointId: endpoint.id, at: done.createdAt.toISOString(), applied: false };
        // A version that starts to serve here passes the serving guard; returning to a version that served before does not ask.
        if (SERVING_KINDS.has(change.kind) && change.toVersionId) await guardServing(tx, { projectId: change.projectId, modelVersionId: change.toVersionId, endpointName: change.endpointName });

        const now = new Date();
        await tx
          .update(endpoints)
          .set({
            stableVersionId: change.stableVersionId,
            canaryVersionId: change.canaryVersionId,
            canaryWeight: change.canaryWeight,
            shadowVersionId: change.shadowVersionId,
            // A failed deploy stays on record until a new stable version is in place.
            ...(change.stableVersionId !== endpoint.stableVersionId && { status: 'live' as const, failure: null, failureCause: null }),
            rollout: change.rollout ? { ...change.rollout, updatedAt: now.toISOString() } : endpoint.rollout,
            updatedAt: now,
          })
          .where(eq(endpoints.id, endpoint.id));
        await tx.insert(endpointEvents).values({
          id: newId('epe'),
          endpointId: endpoint.id,
          kind: change.kind,
          fromVersionId: change.fromVersionId,
          toVersionId: change.toVersionId,
          trafficWeight: change.trafficWeight,
          reason: change.reason,
          idempotencyKey: change.idempotencyKey,
          createdAt: now,
        });
        await tx.insert(auditLog).values({
          projectId: change.projectId,
          actor: change.actor,
          action: AUDIT_ACTION[change.kind],
          subjectType: 'endpoint',
          subjectId: endpoint.id,
          details: {
            endpoint: endpoint.name,
            from: change.fromVersionId,
            to: change.toVersionId,
            trafficWeight: change.trafficWeight,
            reason: change.reason,
            ...(change.rollout && { rolloutId: change.rollout.rolloutId, step: change.rollout.step }),
          },
        });
        if (change.moveProductionAliasTo) {
          const modelId = owned.find((v) => v.id === change.moveProductionAliasTo)?.modelId;
          if (!modelId) throw new UserError('model_version_not_found', `Model version ${change.moveProductionAliasTo} is not part of this change.`, 404);
          await moveAliasIn(tx, {
            projectId: change.projectId,
            modelId,
            alias: 'production',
            toVersionId: change.moveProductionAliasTo,
            actor: change.actor,
            reason: change.reason,
            workflowId: change.actor.replace(/^workflow:/, ''),
            idempotencyKey: `${change.idempotencyKey}:production`,
          });
        }
        await notifyEndpointChanged(tx, endpoint.id);
        return { endpointId: endpoint.id, at: now.toISOString(), applied: true };
      });
    },
  };
}

