import type { Client } from '@temporalio/client';
import type { ModelSpec } from '../../domain/model';
import type { RetrainBaseRows } from '../../db/queries/retrains';
import { GPU_TASK_QUEUE, type Accelerator, type PipelineInput } from '../../workflows/contracts';

type BasePipeline = Omit<PipelineInput, 'datasetVersionId'>;

/**
 * The input of the pipeline that trained the base version, as Temporal recorded it: the train child is started
 * with the whole pipeline input, so its first history event holds the exact promotion policy, approval rule,
 * slices and fairness the earlier stages used. Null when that history is gone (retention) or never existed.
 */
export async function recordedPipelineInput(temporal: Client, trainWorkflowId: string): Promise<PipelineInput | null> {
  let history;
  try {
    history = await temporal.workflow.getHandle(trainWorkflowId).fetchHistory();
  } catch (err) {
    if (err instanceof Error && /not ?found/i.test(`${err.name} ${err.message}`)) return null;
    throw err;
  }
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return null;
  const input = temporal.options.loadedDataConverter.payloadConverter.fromPayload<PipelineInput>(payload);
  return input && typeof input === 'object' && 'endpointName' in input && 'minAccuracy' in input ? input : null;
}

/** Without the recorded input: the training run's target, features, spec and task, and the blessing's floors (no approval rule is known). */
export function pipelineFromRun(base: RetrainBaseRows, endpointName: string): BasePipeline {
  const { run, version } = base;
  const verdicts = version.blessing.verdicts ?? [];
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
    ...(verdicts.length > 0 && { promotion: { thresholds: verdicts.map((v) => v.threshold), requireApproval: false, approvalTimeoutMs: 0 } }),
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
