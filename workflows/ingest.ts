import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IngestInput, IngestResult } from './contracts';
import { cpuActivityOptions } from './activity-options';

const { profileUpload, recordDatasetVersion } = proxyActivities<Activities>(cpuActivityOptions);

/** Upload → schema, statistics and a typed columnar artifact → an immutable dataset version. */
export async function ingestDataset(input: IngestInput): Promise<IngestResult> {
  const profile = await profileUpload({ uploadUri: input.uploadUri });
  return recordDatasetVersion({ ...input, profile });
}
