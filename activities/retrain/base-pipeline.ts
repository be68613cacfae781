import type { ModelSpec } from '../../domain/model';
import type { EffectiveModelPolicy } from '../../domain/model-policy';
import type { RetrainBaseRows } from '../../db/queries/retrains';
import { GPU_TASK_QUEUE, type Accelerator, type ActivityTimeouts, type PipelineInput } from '../../workflows/contracts';

type BasePipeline = Omit<PipelineInput, 'datasetVersionId'>;

/**
 * The retrain's pipeline: target, features, spec and task from the base version's training run, the floors from its
 * blessing, and promotion, rollout, slices and fairness from the model's stored policy in force on the endpoint. A
 * model no pipeline ever gave a policy (source `none`) keeps the thresholds its base version was judged by, without approval.
 */
export function pipelineFromRun(base: RetrainBaseRows, endpointName: string, effective: EffectiveModelPolicy, timeouts?: ActivityTimeouts): BasePipeline {
  const { run, version } = base;
  const { policy } = effective;
  const verdicts = version.blessing.verdicts ?? [];
  const promotion =
    effective.source === 'none'
      ? verdicts.length > 0
        ? { thresholds: verdicts.map((v) => v.threshold), requireApproval: false, approvalTimeoutMs: 0 }
        : null
      : policy.promotion;
  return {
    projectId: run.projectId,
    target: run.target,
    features: run.features,
    spec: run.spec,
    ...(run.split?.key != null && { splitKey: run.split.key }),
    task: run.task,
    accelerator: run.taskQueue.endsWith('gpu') ? 'gpu' : 'cpu',
    trainingTaskQueue: run.taskQueue,
    endpointName,
    modelName: version.modelName,
    minAccuracy: version.blessing.thresholds.minAccuracy,
    ...(version.blessing.thresholds.minR2 != null && { minR2: version.blessing.thresholds.minR2 }),
    ...(timeouts && { timeouts }),
    ...(promotion && { promotion }),
    ...(policy.rollout && { rollout: policy.rollout }),
    ...(policy.slices.length > 0 && { slices: policy.slices }),
    ...(policy.fairness && { fairness: policy.fairness }),
  };
}

/** The monitoring config's `retrain.model` (a POST /v1/pipelines model spec, defaults filled) over the base spec. */
export function applyRetrainModel(pipeline: BasePipeline, model: Record<string, unknown> | null, cpuQueue: string): BasePipeline {
  if (!model) return pipeline;
  const { accelerator, hiddenUnits, ...hyper } = model as Partial<ModelSpec> & { accelerator?: Accelerator };
  const type = hyper.type ?? pipeline.spec.type;
  const spec: ModelSpec = { ...pipeline.spec, ...hyper, type, hiddenUnits: type === 'mlp' ? (hiddenUnits ?? (pipeline.spec.hiddenUnits.length ? pipeline.spec.hiddenUnits : [16])) : [] };
  if (!accelerator || accelerator === pipeline.accelerator) return { ...pipeline, spec };
  return { ...pipeline, spec, accelerator, trainingTaskQueue: accelerator === 'gpu' ? GPU_TASK_QUEUE : cpuQueue };
}
