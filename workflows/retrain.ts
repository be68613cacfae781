import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { CancellationScope, executeChild, log, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RetrainInput, RetrainOutcome } from '../domain/retrain';
import { databaseActivityOptions, retrainDatasetActivityOptions } from './activity-options';
import {
  factorySearchAttributes,
  RETRAIN_FAILED_EVENT,
  retrainFailedEventId,
  retrainPipelineWorkflowId,
  retrainStatusQuery,
  rootCauseMessage,
  type PipelineInput,
  type RetrainResult,
  type RetrainStatus,
} from './contracts';
import { factoryPipeline } from './pipeline';
import { publishRegistryEvent } from './registry-events';

const { claimRetrainRun, readRetrainBase, recordRetrainStep, finishRetrainRun } = proxyActivities<Activities>(databaseActivityOptions);

/** Set by Temporal on runs a Schedule starts: the time the run was scheduled for, which names a scheduled retrain's episode. */
const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** The feedback window, when no traffic event says when the base version went live, reaches back at most this far. */
const HOUR_MS = 60 * 60_000;

/**
 * Retrains an endpoint's model once per episode: claims the episode (so no second retrain of the model runs),
 * builds a dataset version from the base version's training data and the labelled traffic since it was
 * deployed, and runs factoryPipeline as a child with the base run's target, features and task under the model's stored
 * policy — so the new version goes through the champion comparison, approval and canary like any other.
 */
export async function retrainEndpoint(input: RetrainInput): Promise<RetrainResult> {
  const id = workflowInfo().workflowId;
  const status: RetrainStatus = { stage: 'claim', episode: null, base: null, window: null, datasetVersionId: null, pipelineWorkflowId: null, policy: null, outcome: null, error: null };
  setHandler(retrainStatusQuery, () => status);

  const scheduledAt = workflowInfo().typedSearchAttributes.get(ScheduledStartTime);
  const claim = await claimRetrainRun({ projectId: input.projectId, endpointName: input.endpointName, trigger: input.trigger, workflowId: id, scheduledAt: scheduledAt ? scheduledAt.toISOString() : null });
  status.episode = claim.episode;
  if (!claim.owned) {
    status.stage = 'skipped';
    const why = claim.status === 'skipped' ? `retrain ${claim.otherWorkflowId ?? '?'} of ${claim.modelName} is running` : `episode ${claim.episode} was already retrained (${claim.status})`;
    setCurrentDetails(`skipped: ${why}`);
    return { status: claim.status === 'skipped' ? 'skipped' : 'claimed_before', episode: claim.episode, otherWorkflowId: claim.otherWorkflowId };
  }

  try {
    status.stage = 'dataset';
    const base = await readRetrainBase({ projectId: input.projectId, endpointName: input.endpointName });
    status.base = { modelVersionId: base.baseModelVersionId, ...base.baseModel };
    status.policy = base.policy ?? null;
    // Everything labelled since the base version went live, not only the drifted window: more of the new
    // distribution, and labels that arrive late for earlier windows still count. The drift window bounds its end.
    const to = input.trigger.kind === 'drift' ? input.trigger.window.to : new Date().toISOString();
    const deployedAt = Date.parse(base.deployedAt);
    const from = deployedAt < Date.parse(to) ? base.deployedAt : input.trigger.kind === 'drift' ? input.trigger.window.from : new Date(Date.parse(to) - HOUR_MS).toISOString();
    status.window = { from, to };
    setCurrentDetails(`building the dataset: ${base.baseModel.name} v${base.baseModel.version}'s training data + labelled traffic of [${from}, ${to})`);
    const { buildRetrainDataset } = proxyActivities<Activities>(retrainDatasetActivityOptions(base.pipeline.timeouts));
    const dataset = await buildRetrainDataset({ projectId: input.projectId, endpointName: input.endpointName, baseModelVersionId: base.baseModelVersionId, window: status.window, workflowId: id });
    status.datasetVersionId = dataset.datasetVersionId;

    status.stage = 'pipeline';
    const pipelineWorkflowId = retrainPipelineWorkflowId(id);
    status.pipelineWorkflowId = pipelineWorkflowId;
    await recordRetrainStep({ workflowId: id, datasetVersionId: dataset.datasetVersionId, pipelineWorkflowId });
    setCurrentDetails(`training on ${dataset.dataset} v${dataset.version} (${dataset.rows} rows, ${dataset.feedbackRows} labelled from production) in ${pipelineWorkflowId}`);
    const pipelineInput: PipelineInput = {
      ...base.pipeline,
      datasetVersionId: dataset.datasetVersionId,
      requestedBy: input.trigger.kind === 'manual' ? input.trigger.requestedBy : `workflow:${id}`,
    };
    const result = await executeChild(factoryPipeline, {
      workflowId: pipelineWorkflowId,
      args: [pipelineInput],
      typedSearchAttributes: factorySearchAttributes({ projectId: input.projectId, dataset: dataset.dataset, model: pipelineInput.modelName, endpoint: input.endpointName }),
    });
    const outcome: RetrainOutcome = {
      pipelineStage: result.stage,
      rejection: result.rejection ?? null,
      modelVersion: { id: result.modelVersion.modelVersionId, name: result.modelVersion.modelName, version: result.modelVersion.version, blessed: result.modelVersion.blessed },
      dataset: { datasetVersionId: dataset.datasetVersionId, version: dataset.version, rows: dataset.rows, feedbackRows: dataset.feedbackRows, window: status.window },
      ...(base.policy && { policy: base.policy }),
    };
    await finishRetrainRun({ workflowId: id, status: 'succeeded', outcome, modelVersionId: result.modelVersion.modelVersionId });
    status.stage = 'done';
    status.outcome = outcome;
    setCurrentDetails(`${result.stage === 'done' ? 'deployed' : 'rejected'}: ${result.modelVersion.modelName} v${result.modelVersion.version}${result.rejection ? ` (${result.rejection})` : ''}`);
    return { status: 'succeeded', episode: claim.episode, outcome };
  } catch (err) {
    const failedIn = status.stage;
    status.stage = 'failed';
    status.error = rootCauseMessage(err);
    // Non-cancellable: a failed or cancelled retrain still frees the model for the next one.
    const finished = await CancellationScope.nonCancellable(() => finishRetrainRun({ workflowId: id, status: 'failed', outcome: { error: status.error ?? 'failed' } })).catch((recordErr: unknown) => {
      log.error('could not record the retrain failure', { error: rootCauseMessage(recordErr) });
      return null;
    });
    if (patched(RETRAIN_FAILED_EVENT)) {
      const attempt = finished?.attempt ?? claim.attempt ?? 1;
      const event = {
        id: retrainFailedEventId(id),
        type: 'retrain.failed' as const,
        projectId: input.projectId,
        occurredAt: new Date().toISOString(),
        model: { name: claim.modelName, ...(status.base && { version: status.base.version, versionId: status.base.modelVersionId }) },
        data: {
          endpoint: input.endpointName,
          episode: claim.episode,
          attempt,
          maxAttempts: finished?.maxAttempts ?? claim.maxAttempts ?? 1,
          nextAttemptAt: finished?.nextAttemptAt ?? null,
          stage: failedIn,
          error: status.error,
          retrainWorkflowId: id,
        },
      };
      // The failure is what the workflow reports; an event that could not be published is only logged.
      await CancellationScope.nonCancellable(() => publishRegistryEvent(event)).catch((publishErr: unknown) => {
        log.error('could not publish retrain.failed', { error: rootCauseMessage(publishErr) });
      });
    }
    throw err;
  }
}
