import { planCollection } from '../../artifacts/collection-plan';
import type { ArtifactStore, CondemnedArtifact } from '../../artifacts/store';
import type { Db } from '../../db/client';
import { referencedArtifactSha256s } from '../../db/queries/artifacts';
import type { ArtifactCollectionInput, ArtifactCollectionResult } from '../../workflows/contracts';

/** Heartbeat (and re-check references) this often while listing and deleting. */
const CHUNK = 500;

export interface CollectionProgress {
  heartbeat(details: unknown): void;
}

/** Test seam: runs after the plan is made and before its files are touched, where a concurrent writer could strike. */
export interface CollectionHooks {
  afterPlan?: () => Promise<void>;
}

/**
 * Mark and sweep: plan from the references and the listing, then per chunk take the planned files out of their
 * names, read the references again, and delete only what is still unreferenced and still old. Writers put an
 * artifact (which refreshes its mtime, or rewrites a condemned one) before a row references it, so whatever
 * was put or referenced after the plan is restored. Safe to retry: a repeat finds less to delete.
 */
export async function collectUnreferencedArtifacts(
  deps: { db: Db; artifacts: ArtifactStore },
  input: ArtifactCollectionInput,
  progress: CollectionProgress,
  hooks: CollectionHooks = {},
): Promise<ArtifactCollectionResult> {
  // A crashed collection's condemned files go back first; they are judged again below, as new.
  for await (const leftover of deps.artifacts.listCondemned()) await deps.artifacts.restore(leftover);
  // `now` before the references, the references before the listing: whatever is written after either is younger than `now`.
  const now = new Date();
  const cutoff = now.getTime() - input.graceMs;
  const referenced = await referencedArtifactSha256s(deps.db);
  const stored = [];
  for await (const entry of deps.artifacts.list()) {
    stored.push({ ...entry, id: entry.sha256 });
    if (stored.length % CHUNK === 0) progress.heartbeat({ phase: 'listing', listed: stored.length });
  }
  const plan = planCollection({ files: stored, referenced, now, graceMs: input.graceMs });
  await hooks.afterPlan?.();

  let deleted = 0;
  let bytesFreed = 0;
  let keptReferenced = plan.keptReferenced;
  let keptYoung = plan.keptYoung;
  for (let start = 0; start < plan.delete.length; start += CHUNK) {
    const condemned: CondemnedArtifact[] = [];
    for (const artifact of plan.delete.slice(start, start + CHUNK)) {
      const moved = await deps.artifacts.condemn(artifact.sha256);
      if (moved) condemned.push(moved);
    }
    // Read after the files left their names: a row written from here on found its file missing and put it anew.
    const stillReferenced = await referencedArtifactSha256s(deps.db);
    for (const artifact of condemned) {
      if (stillReferenced.has(artifact.sha256)) keptReferenced++;
      else if (!(artifact.modifiedAt.getTime() < cutoff)) keptYoung++;
      else {
        await deps.artifacts.discard(artifact);
        deleted++;
        bytesFreed += artifact.bytes;
        continue;
      }
      await deps.artifacts.restore(artifact);
    }
    progress.heartbeat({ phase: 'deleting', deleted });
  }

  const temps = [];
  for await (const entry of deps.artifacts.listTemp()) temps.push({ ...entry, id: entry.name });
  const tempPlan = planCollection({ files: temps, referenced: new Set(), now, graceMs: input.graceMs });
  for (const temp of tempPlan.delete) {
    await deps.artifacts.deleteTemp(temp.name);
    bytesFreed += temp.bytes;
  }
  return { scanned: stored.length, deleted, bytesFreed, keptReferenced, keptYoung, tempFilesDeleted: tempPlan.delete.length };
}
