import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelVersions, trainingRuns } from '../../db/schema';
import { recordHistory } from '../support/record-history';
import { publicDatasetCsv } from '../support/public-datasets';
import { startTestFactory, waitForWorkflow, type TestFactory } from '../support/test-factory';

interface Served {
  predictions: ({ id: string; label: string | number; probabilities: Record<string, number>; probability?: number } & { value?: number })[];
}

/** Multi-class and regression through the real API: upload a public table, run the pipeline, predict. */
describe('every common task: multi-class classification and regression, end to end', () => {
  let t: TestFactory;

  beforeAll(async () => {
    t = await startTestFactory();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('iris: a softmax classifier, task inferred, probabilities per class served', async () => {
    expect((await t.request('POST', '/v1/datasets/iris/versions?wait=true', { body: publicDatasetCsv('iris'), contentType: 'text/csv' })).status).toBe(201);
    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'iris', target: 'species', model: { type: 'logistic', epochs: 40, learningRate: 0.1, batchSize: 16 }, endpoint: 'iris' },
    });
    expect(start.status).toBe(202);
    const { workflowId, task } = (await start.json()) as { workflowId: string; task: unknown };
    expect(task).toEqual({ task: 'classification', reason: 'the target "species" holds text' });

    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    const result = final.result as { trainingRunId: string; evaluation: Record<string, number | string> };
    expect(result.evaluation).toMatchObject({ task: 'classification', rows: 30 });
    expect(result.evaluation.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.evaluation.macroF1).toBeGreaterThanOrEqual(0.9);
    expect(result.evaluation.parityMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect((final.progress as { task?: unknown } | undefined)?.task).toEqual({ task: 'classification', reason: 'the target "species" holds text' });
    await recordHistory(workflowId, 'factory-pipeline-multiclass.json');

    const [run] = await t.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run).toMatchObject({ task: 'classification', taskReason: 'the target "species" holds text', classes: ['setosa', 'versicolor', 'virginica'] });
    const report = run?.evaluation;
    expect(report?.task === 'classification' ? report.perClass?.map((c) => c.label) : null).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(report?.task === 'classification' ? report.perClass?.every((c) => c.rocAuc !== null && c.rocAuc > 0.9) : null).toBe(true);
    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, result.trainingRunId));
    expect(version?.outputSchema).toEqual({ name: 'probabilities', task: 'classification', classes: ['setosa', 'versicolor', 'virginica'], labelType: 'string' });
    expect(version?.modelCard).toMatchObject({ task: 'multi-class classification' });

    const predict = await t.request('POST', '/v1/endpoints/iris/predict', {
      json: { records: [{ sepalLength: 5.1, sepalWidth: 3.5, petalLength: 1.4, petalWidth: 0.2 }, { sepalLength: 6.7, sepalWidth: 3.0, petalLength: 5.2, petalWidth: 2.3 }] },
    });
    expect(predict.status).toBe(200);
    const served = (await predict.json()) as Served;
    expect(served.predictions.map((p) => p.label)).toEqual(['setosa', 'virginica']);
    for (const p of served.predictions) {
      expect(Object.keys(p.probabilities)).toEqual(['setosa', 'versicolor', 'virginica']);
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.probability).toBeUndefined();
    }
  });

  it('cars: a regressor, task inferred, values served in miles per gallon', async () => {
    expect((await t.request('POST', '/v1/datasets/cars/versions?wait=true', { body: publicDatasetCsv('cars'), contentType: 'text/csv' })).status).toBe(201);
    const bad = await t.request('POST', '/v1/pipelines', { json: { dataset: 'cars', target: 'Miles_per_Gallon', model: { type: 'logistic' }, endpoint: 'cars' } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('model_type_not_for_task');

    const start = await t.request('POST', '/v1/pipelines', {
      json: { dataset: 'cars', target: 'Miles_per_Gallon', model: { type: 'linear', epochs: 40, learningRate: 0.05, batchSize: 32 }, endpoint: 'cars', minR2: 0.5 },
    });
    expect(start.status).toBe(202);
    const { workflowId, task } = (await start.json()) as { workflowId: string; task: { task: string; reason: string } };
    expect(task).toMatchObject({ task: 'regression', reason: expect.stringContaining('not all whole') as unknown });

    const final = await waitForWorkflow(t, workflowId);
    expect(final.status).toBe('COMPLETED');
    const result = final.result as { trainingRunId: string; evaluation: Record<string, number | string> };
    // The hash split places each row by its content: 73 of 392 rows land below the 0.2 cut, every run.
    expect(result.evaluation).toMatchObject({ task: 'regression', rows: 73 });
    expect(result.evaluation.r2).toBeGreaterThanOrEqual(0.6);
    expect(result.evaluation.rmse).toBeLessThan(5);
    expect(result.evaluation.parityMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    await recordHistory(workflowId, 'factory-pipeline-regression.json');

    const [version] = await t.database.db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, result.trainingRunId));
    expect(version?.outputSchema).toEqual({ name: 'value', task: 'regression', target: 'Miles_per_Gallon' });
    expect(version?.blessing).toMatchObject({ decision: 'blessed', thresholds: { minR2: 0.5 } });

    // A light 4-cylinder car and a heavy V8 from the table: the answers are in mpg, not standardised units.
    const predict = await t.request('POST', '/v1/endpoints/cars/predict', {
      json: {
        records: [
          { Cylinders: 4, Displacement: 97, Horsepower: 88, Weight_in_lbs: 2130, Acceleration: 14.5 },
          { Cylinders: 8, Displacement: 454, Horsepower: 220, Weight_in_lbs: 4354, Acceleration: 9 },
        ],
      },
    });
    expect(predict.status).toBe(200);
    const [light, heavy] = ((await predict.json()) as Served).predictions;
    expect(light?.value).toBeGreaterThan(24);
    expect(heavy?.value).toBeLessThan(17);
    expect(light).not.toHaveProperty('label');
  });
});
