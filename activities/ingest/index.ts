import { Context } from '@temporalio/activity';
import { and, eq, max } from 'drizzle-orm';
import { datasets, datasetVersions } from '../../db/schema';
import { newId } from '../../platform/ids';
import type { IngestInput, IngestResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import type { Anomaly, ColumnSchema, ColumnStats } from '../../domain/dataset';
import { readCsvDataset } from '../../data/read-csv';
import { encodeDatasetArrow } from '../../data/columnar';
import { callingWorkflow } from '../calling-workflow';

export interface DatasetProfile {
  contentHash: string;
  rowCount: number;
  artifactUri: string;
  schema: ColumnSchema[];
  stats: ColumnStats[];
  anomalies: Anomaly[];
}

export function createIngestActivities(deps: ActivityDeps) {
  return {
    /** Parses and checks the upload, writes the typed columnar artifact and a profile; returns the profile's URI. */
    async profileUpload(input: { uploadUri: string }): Promise<{ profileUri: string; contentHash: string }> {
      const ctx = Context.current();
      // Parsing is cheap to redo, so the heartbeat carries progress for the UI, not a resume point.
      const parsed = await readCsvDataset(() => deps.artifacts.openStream(input.uploadUri), { onProgress: (progress) => ctx.heartbeat(progress) });
      const table = await deps.artifacts.put(encodeDatasetArrow(parsed));
      const profile: DatasetProfile = {
        contentHash: parsed.contentHash,
        rowCount: parsed.rowCount,
        artifactUri: table.uri,
        schema: parsed.schema,
        stats: parsed.stats,
        anomalies: parsed.anomalies,
      };
      const stored = await deps.artifacts.putJson(profile);
      return { profileUri: stored.uri, contentHash: parsed.contentHash };
    },

    /** Records the dataset version in one transaction; the same content gives back the existing version. */
    async recordDatasetVersion(input: IngestInput & { profile: { profileUri: string } }): Promise<IngestResult> {
      const profile = await deps.artifacts.getJson<DatasetProfile>(input.profile.profileUri);
      const { runId } = callingWorkflow();
      return deps.db.transaction(async (tx) => {
        // Insert-or-fetch in one statement: DO UPDATE (a no-op) makes RETURNING give the existing row too.
        const [dataset] = await tx
          .insert(datasets)
          .values({ id: newId('ds'), projectId: input.projectId, name: input.datasetName })
          .onConflictDoUpdate({ target: [datasets.projectId, datasets.name], set: { name: input.datasetName } })
          .returning();
        if (!dataset) throw new Error(`dataset ${input.datasetName} was not written`);

        const [existing] = await tx
          .select()
          .from(datasetVersions)
          .where(and(eq(datasetVersions.datasetId, dataset.id), eq(datasetVersions.contentHash, profile.contentHash)));
        if (existing) {
          // A retry of the run that wrote it still reports "created".
          return { datasetVersionId: existing.id, version: existing.version, created: existing.ingestRunId === runId };
        }
        const [latest] = await tx
          .select({ version: max(datasetVersions.version) })
          .from(datasetVersions)
          .where(eq(datasetVersions.datasetId, dataset.id));
        const version = (latest?.version ?? 0) + 1;
        const id = newId('dsv');
        await tx.insert(datasetVersions).values({
          id,
          datasetId: dataset.id,
          version,
          contentHash: profile.contentHash,
          artifactUri: profile.artifactUri,
          rowCount: profile.rowCount,
          schema: profile.schema,
          stats: profile.stats,
          anomalies: profile.anomalies,
          source: { kind: 'upload', contentType: input.contentType, bytes: input.uploadBytes, uploadSha256: input.uploadSha256 },
          ingestRunId: runId,
        });
        return { datasetVersionId: id, version, created: true };
      });
    },
  };
}
