import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { artifactCollectionActivityOptions } from './activity-options';
import type { ArtifactCollectionInput, ArtifactCollectionResult } from './contracts';

const { collectUnreferencedArtifacts } = proxyActivities<Activities>(artifactCollectionActivityOptions());

/** Deletes artifacts no live row references once they are older than the grace period (run by the `artifact-gc` schedule). */
export async function collectArtifacts(input: ArtifactCollectionInput): Promise<ArtifactCollectionResult> {
  return collectUnreferencedArtifacts(input);
}
