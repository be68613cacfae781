import { describe, expect, it } from 'vitest';
import { applyRetrainModel } from '../../activities/retrain/base-pipeline';
import type { PipelineInput } from '../../workflows/contracts';

const base: Omit<PipelineInput, 'datasetVersionId'> = {
  projectId: 'p',
  target: 'churned',
  features: ['tenure', 'spend'],
  spec: { type: 'logistic', epochs: 20, learningRate: 0.1, batchSize: 64, hiddenUnits: [], seed: 1, testFraction: 0.2 },
  accelerator: 'cpu',
  trainingTaskQueue: 'factory-cpu-test',
  endpointName: 'churn',
  modelName: 'churn',
  minAccuracy: 0.7,
  promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 0.01 }], requireApproval: true, approvalTimeoutMs: 60_000 },
};

describe("a retrain's pipeline input", () => {
  it('keeps the base pipeline when no retrain model is configured', () => {
    expect(applyRetrainModel(base, null, 'q')).toBe(base);
  });

  it("applies the configured model over the base spec, keeping target, features, blessing floor and promotion policy", () => {
    const next = applyRetrainModel(base, { type: 'mlp', epochs: 5, learningRate: 0.05, batchSize: 32, seed: 42, testFraction: 0.25, accelerator: 'cpu' }, 'q');
    expect(next.spec).toEqual({ type: 'mlp', epochs: 5, learningRate: 0.05, batchSize: 32, hiddenUnits: [16], seed: 42, testFraction: 0.25 });
    expect(next).toMatchObject({ target: 'churned', features: ['tenure', 'spend'], minAccuracy: 0.7, promotion: base.promotion, trainingTaskQueue: 'factory-cpu-test' });
  });

  it('moves training to the GPU queue when the configured model asks for it, and back to the CPU queue', () => {
    const gpu = applyRetrainModel(base, { type: 'logistic', accelerator: 'gpu' }, 'q');
    expect(gpu).toMatchObject({ accelerator: 'gpu', trainingTaskQueue: 'factory-gpu', spec: { hiddenUnits: [] } });
    expect(applyRetrainModel(gpu, { type: 'logistic', accelerator: 'cpu' }, 'factory-cpu-here')).toMatchObject({ accelerator: 'cpu', trainingTaskQueue: 'factory-cpu-here' });
  });
});
