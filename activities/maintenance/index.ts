import { Context } from '@temporalio/activity';
import { planCollection } from '../../artifacts/collection-plan';
import { referencedArtifactSha256s } from '../../db/queries/artifacts';
import type { ArtifactCollectionInput, ArtifactCollectionResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

/** Heartbeat this often while listing and deleting, so a stuck collection is noticed and retried. */
const CHUNK = 500;

export function createMaintenanceActivities(deps: ActivityDeps) {
  return {
    /**
     * Deletes artifacts no live row references and leftover temp files, both only when older than the
     * grace period. Safe to retry: a repeat finds less to delete.
     */
    async collectUnreferencedArtifacts(input: ArtifactCollectionInput): Promise<ArtifactCollectionResult> {
      const ctx = Context.current();
      // `now` before the references, the references before the listing: whatever is written after either is younger than `now`.
      const now = new Date();
      const referenced = await referencedArtifactSha256s(deps.db);
      const stored = [];
      for await (const entry of deps.artifacts.list()) {
        stored.push({ ...entry, id: entry.sha256 });
        if (stored.length % CHUNK === 0) ctx.heartbeat({ phase: 'listing', listed: stored.length });
      }
      const plan = planCollection({ files: stored, referenced, now, graceMs: input.graceMs });
      let bytesFreed = 0;
      for (const [i, artifact] of plan.delete.entries()) {
        await deps.artifacts.delete(artifact.sha256);
        bytesFreed += artifact.bytes;
        if ((i + 1) % CHUNK === 0) ctx.heartbeat({ phase: 'deleting', deleted: i + 1 });
      }

      const temps = [];
      for await (const entry of deps.artifacts.listTemp()) temps.push({ ...entry, id: entry.name });
      const tempPlan = planCollection({ files: temps, referenced: new Set(), now, graceMs: input.graceMs });
      for (const temp of tempPlan.delete) {
        await deps.artifacts.deleteTemp(temp.name);
        bytesFreed += temp.bytes;
      }
      const result: ArtifactCollectionResult = {
        scanned: stored.length,
        deleted: plan.delete.length,
        bytesFreed,
        keptReferenced: plan.keptReferenced,
        keptYoung: plan.keptYoung,
        tempFilesDeleted: tempPlan.delete.length,
      };
      ctx.log.info('artifacts collected', { ...result });
      return result;
    },
  };
}
