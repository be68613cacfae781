import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ArtifactCollectionInput, ArtifactCollectionResult } from './contracts';

// A whole-store scan: long, heartbeating per chunk; a retry starts over and finds less to delete.
const { collectUnreferencedArtifacts } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** Deletes artifacts no live row references once they are older than the grace period (run by the `artifact-gc` schedule). */
export async function collectArtifacts(input: ArtifactCollectionInput): Promise<ArtifactCollectionResult> {
  return collectUnreferencedArtifacts(input);
}
