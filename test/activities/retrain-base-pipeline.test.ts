import { describe, expect, it } from 'vitest';
import { applyRetrainModel, pipelineFromRun } from '../../activities/retrain/base-pipeline';
import type { RetrainBaseRows } from '../../db/queries/retrains';
import type { EffectiveModelPolicy } from '../../domain/model-policy';
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

describe("a retrain's pipeline from the training run and the stored policy", () => {
  const rows = {
    endpointId: 'ep_1',
    version: {
      id: 'mv_1',
      modelId: 'mdl_1',
      modelName: 'churn',
      version: 3,
      createdAt: new Date(0),
      blessing: {
        decision: 'blessed',
        thresholds: { minAccuracy: 0.6 },
        champion: null,
        reasons: [],
        verdicts: [{ threshold: { metric: 'accuracy', min: 0.6 }, candidate: 0.8, champion: null, passed: true, message: 'accuracy 0.8 ≥ 0.6' }],
      },
    },
    run: { projectId: 'p', target: 'churned', features: ['tenure', 'spend'], spec: base.spec, task: 'classification', taskQueue: 'factory-cpu-test', workflowId: 'pipeline-churn-1/train' },
    deployedAt: new Date(0),
  } as unknown as RetrainBaseRows;

  it('follows the stored policy in force (here the endpoint override): approval, thresholds, canary, slices, fairness', () => {
    const stored: EffectiveModelPolicy = {
      source: 'endpoint',
      version: 4,
      policy: {
        promotion: { thresholds: [{ metric: 'accuracy', maxDrop: 0.01 }], requireApproval: true, approvalTimeoutMs: 3_600_000 },
        rollout: { strategy: { type: 'canary', steps: [{ weight: 10, bakeSeconds: 60 }, { weight: 100, bakeSeconds: 0 }] }, gates: { errorRate: 0.01 } },
        slices: ['region'],
        fairness: { sensitive: 'sex' },
      },
    };
    const pipeline = pipelineFromRun(rows, 'churn', stored, { heartbeatTimeoutMs: 3000 });
    expect(pipeline).toMatchObject({ target: 'churned', features: ['tenure', 'spend'], task: 'classification', modelName: 'churn', minAccuracy: 0.6, timeouts: { heartbeatTimeoutMs: 3000 } });
    expect(pipeline.promotion).toEqual(stored.policy.promotion);
    expect(pipeline.rollout).toEqual(stored.policy.rollout);
    expect(pipeline).toMatchObject({ slices: ['region'], fairness: { sensitive: 'sex' } });
  });

  it('a stored policy without promotion means no approval and all at once; no stored policy keeps the blessing thresholds, without approval', () => {
    const empty = { promotion: null, rollout: null, slices: [], fairness: null };
    const cleared = pipelineFromRun(rows, 'churn', { source: 'model', version: 2, policy: empty });
    expect([cleared.promotion, cleared.rollout, cleared.slices, cleared.fairness]).toEqual([undefined, undefined, undefined, undefined]);
    const legacy = pipelineFromRun(rows, 'churn', { source: 'none', version: null, policy: empty });
    expect(legacy.promotion).toEqual({ thresholds: [{ metric: 'accuracy', min: 0.6 }], requireApproval: false, approvalTimeoutMs: 0 });
    expect(legacy.rollout).toBeUndefined();
  });
});
