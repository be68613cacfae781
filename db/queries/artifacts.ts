import { inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { datasetVersions, modelVersions, trainingRuns } from '../schema';

const URI_SHA256 = /^artifact:\/\/sha256\/([a-f0-9]{64})$/;

/**
 * The sha256 of every artifact a live row still needs: dataset versions (normalised data and the raw
 * upload), running runs' latest checkpoint, the model of runs not failed or cancelled, and every
 * registered model version's ONNX file. Anything else in the store may be collected.
 */
export async function referencedArtifactSha256s(db: Db): Promise<Set<string>> {
  const referenced = new Set<string>();
  const addUri = (uri: string | null) => {
    const sha256 = uri ? URI_SHA256.exec(uri)?.[1] : undefined;
    if (sha256) referenced.add(sha256);
  };
  for (const v of await db.select({ artifactUri: datasetVersions.artifactUri, source: datasetVersions.source }).from(datasetVersions)) {
    addUri(v.artifactUri);
    if (v.source.kind === 'upload' && v.source.uploadSha256) referenced.add(v.source.uploadSha256);
  }
  const runs = await db
    .select({ status: trainingRuns.status, checkpointUri: trainingRuns.checkpointUri, modelUri: trainingRuns.modelUri })
    .from(trainingRuns)
    .where(inArray(trainingRuns.status, ['running', 'succeeded']));
  for (const run of runs) {
    addUri(run.modelUri);
    // A finished run's model is saved; only a running run may still resume from its checkpoint.
    if (run.status === 'running') addUri(run.checkpointUri);
  }
  for (const v of await db.select({ onnxUri: modelVersions.onnxUri }).from(modelVersions)) addUri(v.onnxUri);
  return referenced;
}
