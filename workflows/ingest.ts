import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IngestInput, IngestResult } from './contracts';
import { databaseActivityOptions, ingestActivityOptions } from './activity-options';

const { recordDatasetVersion } = proxyActivities<Activities>(databaseActivityOptions);

/** Upload → schema, statistics and a typed columnar artifact → an immutable dataset version. */
export async function ingestDataset(input: IngestInput): Promise<IngestResult> {
  const { profileUpload } = proxyActivities<Activities>(ingestActivityOptions(input.timeouts));
  const profile = await profileUpload({ uploadUri: input.uploadUri });
  return recordDatasetVersion({ ...input, profile });
}
