import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetAncestry } from '../../db/queries/dataset-ancestry';
import { predictionLineage } from '../../db/queries/lineage';
import { insertModelVersion } from '../support/candidate-models';
import { setEndpointTraffic } from '../support/serving-fixtures';
import { ingestCsv, logPredictions, openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { churnRows, toCsv } from '../support/synthetic-data';

const T0 = new Date('2026-04-01T00:00:00Z');
const day = (n: number) => new Date(T0.getTime() + n * 86_400_000);

/** A prediction of a model trained on a retrain-built dataset version traces back to the upload and every feedback window. */
describe('lineage through retrains', () => {
  let home: RetrainHome;
  let uploadId: string;
  const versions: { modelVersionId: string; version: number }[] = [];
  const built: string[] = [];
  let predictionId: string;

  beforeAll(async () => {
    home = await openRetrainHome('retrain-lineage');
    const db = home.database.db;
    uploadId = await ingestCsv(home, 'churn', toCsv(churnRows(100)));
    const register = (datasetVersionId: string) => insertModelVersion(db, { projectId: home.projectId, model: 'churn', features: ['tenure', 'spend'], trainedOn: { datasetVersionId, target: 'churned' } });
    versions.push(await register(uploadId));
    // Two rounds of the loop: serve, get labels, build the next dataset version, train on it.
    for (const round of [0, 1]) {
      const serving = versions[round];
      if (!serving) throw new Error('no version to serve');
      const endpointId = await setEndpointTraffic(db, { projectId: home.projectId, endpoint: 'churn-live', stable: serving.modelVersionId });
      await logPredictions(
        db,
        Array.from({ length: 3 + round }, (_, i) => ({ endpointId, versionId: serving.modelVersionId, inputs: { tenure: i, spend: 100 + i }, at: day(round * 7 + 1), label: i % 2 ? 'no' : 'yes' })),
      );
      const window = { from: day(round * 7).toISOString(), to: day(round * 7 + 7).toISOString() };
      const workflowId = `retrain-lineage-${round}`;
      const result = await home.inActivity(workflowId, () =>
        home.retrain.buildRetrainDataset({ projectId: home.projectId, endpointName: 'churn-live', baseModelVersionId: serving.modelVersionId, window, workflowId }),
      );
      built.push(result.datasetVersionId);
      versions.push(await register(result.datasetVersionId));
    }
    const latest = versions[2];
    if (!latest) throw new Error('no third version');
    const endpointId = await setEndpointTraffic(db, { projectId: home.projectId, endpoint: 'churn-live', stable: latest.modelVersionId });
    [predictionId = ''] = await logPredictions(db, [{ endpointId, versionId: latest.modelVersionId, inputs: { tenure: 9, spend: 9 }, at: day(20), label: 'no' }]);
  });
  afterAll(async () => {
    await home?.close();
  });

  it('shows the dataset versions back to the upload, and which uploads and which feedback built the model', async () => {
    const lineage = await predictionLineage(home.database.db, home.projectId, predictionId);
    expect(lineage.prediction).toMatchObject({ id: predictionId, endpoint: 'churn-live', feedback: { label: 'no' } });
    expect(lineage.modelVersion).toMatchObject({ id: versions[2]?.modelVersionId, model: 'churn', version: 3 });
    expect(lineage.datasetVersions.map((d) => [d.id, d.dataset, d.version, d.rows, d.source.kind])).toEqual([
      [built[1], 'churn', 3, 107, 'retrain'],
      [built[0], 'churn', 2, 103, 'retrain'],
      [uploadId, 'churn', 1, 100, 'upload'],
    ]);
    expect(lineage.datasetVersions[0]?.source).toMatchObject({ kind: 'retrain', baseDatasetVersionId: built[0], baseRows: 103 });
    expect(lineage.sources.uploads).toEqual([expect.objectContaining({ datasetVersionId: uploadId, dataset: 'churn', version: 1, rows: 100, contentType: 'text/csv' })]);
    expect(lineage.sources.feedback).toEqual([
      expect.objectContaining({
        datasetVersionId: built[1],
        endpoint: 'churn-live',
        from: day(7).toISOString(),
        to: day(14).toISOString(),
        rows: 4,
        retrainWorkflowId: 'retrain-lineage-1',
        modelVersions: [{ versionId: versions[1]?.modelVersionId, model: 'churn', version: 2 }],
      }),
      expect.objectContaining({ datasetVersionId: built[0], from: day(0).toISOString(), rows: 3, modelVersions: [{ versionId: versions[0]?.modelVersionId, model: 'churn', version: 1 }] }),
    ]);
    expect(lineage.sources.truncated).toBe(false);
  });

  it('stops at the depth limit and says so', async () => {
    const ancestry = await datasetAncestry(home.database.db, home.projectId, built[1] ?? '', 2);
    expect(ancestry.chain.map((c) => c.version.id)).toEqual([built[1], built[0]]);
    expect(ancestry.truncated).toBe(true);
    const whole = await datasetAncestry(home.database.db, home.projectId, built[1] ?? '', 3);
    expect(whole.truncated).toBe(false);
  });

  it('does not follow a chain into another project', async () => {
    const ancestry = await datasetAncestry(home.database.db, 'prj_other', built[1] ?? '');
    expect(ancestry).toEqual({ chain: [], truncated: false });
  });
});
