import { Context } from '@temporalio/activity';
import type { ArtifactCollectionInput, ArtifactCollectionResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { collectUnreferencedArtifacts } from './collect-artifacts';

export function createMaintenanceActivities(deps: ActivityDeps) {
  return {
    /**
     * Deletes artifacts no live row references and leftover temp files, both only when older than the
     * grace period, re-checking each file after it left its name. Safe to retry.
     */
    async collectUnreferencedArtifacts(input: ArtifactCollectionInput): Promise<ArtifactCollectionResult> {
      const ctx = Context.current();
      const result = await collectUnreferencedArtifacts(deps, input, { heartbeat: (details) => ctx.heartbeat(details) });
      ctx.log.info('artifacts collected', { ...result });
      return result;
    },
  };
}
