import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { findEndpointForMonitoring, readMonitoringConfig } from '../../db/queries/monitoring';
import {
  claimRetrain,
  episodeReportsOf,
  findRetrainRun,
  finishRetrain,
  modelOfVersion,
  readRetrainBaseRows,
  recordRetrainProgress,
  type RetrainRun,
} from '../../db/queries/retrains';
import { RETRAIN_WORKFLOW_TYPE, type RetrainInput, type RetrainOutcome, type RetrainTrigger } from '../../domain/retrain';
import { DEFAULT_RETRAIN_RETRY, driftEpisode, manualEpisode, retrainWorkflowId, scheduleEpisode } from '../../domain/retrain-episode';
import { UserError } from '../../platform/user-error';
import {
  factorySearchAttributes,
  type ClaimRetrainInput,
  type ClaimRetrainResult,
  type FinishedRetrain,
  type RetrainBase,
  type RetrainRequestResult,
} from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { readModelPolicy } from '../../db/queries/model-policies';
import { applyRetrainModel, pipelineFromRun } from './base-pipeline';

export interface RequestRetrainInput {
  projectId: string;
  endpointName: string;
  monitorWorkflowId: string;
  window: { from: string; to: string };
  report: { id: string; modelVersionId: string; reasons: string[] };
}

export function createRetrainActivities(deps: ActivityDeps) {
  const { db, temporal } = deps;

  /** The drifted version's model, or a 422 when the version is gone (never: reports reference it). */
  async function modelOf(modelVersionId: string): Promise<{ modelId: string; modelName: string }> {
    const model = await modelOfVersion(db, modelVersionId);
    if (!model) throw new UserError('model_version_not_found', `Model version ${modelVersionId} does not exist; nothing to retrain.`, 404);
    return model;
  }

  async function episodeOfDrift(endpointId: string, trigger: Extract<RetrainTrigger, { kind: 'drift' }>): Promise<string> {
    const reports = await episodeReportsOf(db, endpointId, trigger.modelVersionId);
    const reportId = trigger.reportIds[0];
    const report = reports.find((r) => r.id === reportId);
    if (!report) throw new UserError('drift_report_not_found', `Drift report ${String(reportId)} of version ${trigger.modelVersionId} does not exist on this endpoint.`, 404);
    return driftEpisode(report, reports);
  }

  /**
   * Starts the claim's retrain unless its workflow id ever ran (REJECT_DUPLICATE): every alarm of a running claim
   * calls this, so a claim whose starter crashed before starting is started by the next alarm or retry. A claim
   * still `running` whose workflow closed without ending it is marked failed, so it no longer holds the model.
   */
  async function ensureStarted(run: RetrainRun, projectId: string, endpointName: string, modelName: string): Promise<void> {
    const input: RetrainInput = { projectId, endpointName, trigger: run.trigger };
    try {
      await temporal.workflow.start(RETRAIN_WORKFLOW_TYPE, {
        taskQueue: Context.current().info.taskQueue,
        workflowId: run.workflowId,
        args: [input],
        memo: { projectId },
        typedSearchAttributes: factorySearchAttributes({ projectId, model: modelName, endpoint: endpointName }),
        staticSummary: `retrain ${modelName} on ${endpointName} (episode ${run.episode})`,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const description = await temporal.workflow.getHandle(run.workflowId).describe();
      if (description.status.name !== 'RUNNING') {
        await finishRetrain(db, run.workflowId, { status: 'failed', outcome: { error: `the retrain workflow closed ${description.status.name} without recording its end` } });
      }
    }
  }

  return {
    /**
     * A monitor's drifted (or degraded) report asks for a retrain of its version's model: derives the drift
     * episode, claims it in retrain_runs and starts retrainEndpoint under the id derived from model and episode.
     * Safe under retries and crashes between claim and start: the claim is found again and the start is idempotent.
     */
    async requestRetrain(input: RequestRetrainInput): Promise<RetrainRequestResult> {
      const { report } = input;
      const endpoint = await findEndpointForMonitoring(db, input.projectId, input.endpointName);
      const config = await readMonitoringConfig(db, endpoint.id);
      if (!config.retrain.enabled) {
        return { reportId: report.id, outcome: 'disabled', workflowId: null, episode: null, reason: `retraining is not enabled in ${endpoint.name}'s monitoring configuration` };
      }
      const model = await modelOf(report.modelVersionId);
      const trigger: RetrainTrigger = { kind: 'drift', monitorWorkflowId: input.monitorWorkflowId, reportIds: [report.id], modelVersionId: report.modelVersionId, window: input.window, reasons: report.reasons };
      const episode = await episodeOfDrift(endpoint.id, trigger);
      const workflowId = retrainWorkflowId(model.modelId, episode);
      const retry = { maxAttempts: config.retrain.maxAttempts ?? DEFAULT_RETRAIN_RETRY.maxAttempts, backoffSeconds: config.retrain.backoffSeconds ?? DEFAULT_RETRAIN_RETRY.backoffSeconds };
      const claim = await claimRetrain(db, { projectId: input.projectId, endpointId: endpoint.id, modelId: model.modelId, episode, workflowId, trigger, retry });
      if (claim.kind === 'skipped') {
        return { reportId: report.id, outcome: 'skipped', workflowId: claim.running.workflowId, episode, reason: `retrain ${claim.running.workflowId} of ${model.modelName} was running` };
      }
      const { run } = claim;
      if (run.status === 'running') await ensureStarted(run, input.projectId, endpoint.name, model.modelName);
      const attempt = `attempt ${run.attempt} of ${run.maxAttempts}`;
      if (claim.kind === 'claimed') return { reportId: report.id, outcome: 'started', workflowId: run.workflowId, episode, reason: `drift episode ${episode} of ${model.modelName}, ${attempt}` };
      const by = run.trigger.kind === 'drift' ? run.trigger.monitorWorkflowId : run.trigger.kind;
      const failed = run.status !== 'failed' ? '' : run.retryAt ? `; the next attempt may start after ${run.retryAt.toISOString()}` : '; no attempt is left';
      return { reportId: report.id, outcome: 'claimed_before', workflowId: run.workflowId, episode, reason: `episode ${episode} was claimed by ${by} (${attempt}: ${run.status})${failed}` };
    },

    /**
     * The retrain workflow's own claim: found by its workflow id when an alarm claimed for it, else claimed now
     * (schedules and manual requests start the workflow directly), so no two retrains of a model run at once.
     */
    async claimRetrainRun(input: ClaimRetrainInput): Promise<ClaimRetrainResult> {
      const endpoint = await findEndpointForMonitoring(db, input.projectId, input.endpointName);
      const found = await findRetrainRun(db, input.workflowId);
      const { trigger } = input;
      let model: { modelId: string; modelName: string };
      if (trigger.kind === 'drift') {
        model = await modelOf(trigger.modelVersionId);
      } else {
        const base = await readRetrainBaseRows(db, endpoint.id);
        if (!base) throw new UserError('nothing_to_retrain', `Endpoint ${endpoint.name} serves no stable version; deploy a model before retraining it.`, 409);
        model = { modelId: base.version.modelId, modelName: base.version.modelName };
      }
      const result = (run: RetrainRun, owned: boolean, other: string | null): ClaimRetrainResult => ({
        owned,
        status: run.status,
        episode: run.episode,
        modelName: model.modelName,
        otherWorkflowId: other,
        attempt: run.attempt,
        maxAttempts: run.maxAttempts,
      });
      if (found) return result(found, found.status === 'running', found.status === 'skipped' ? (found.outcome?.skippedFor ?? null) : null);

      const episode =
        trigger.kind === 'drift'
          ? await episodeOfDrift(endpoint.id, trigger)
          : trigger.kind === 'schedule'
            ? scheduleEpisode(trigger.scheduleName, input.scheduledAt ?? input.workflowId)
            : manualEpisode(input.workflowId);
      const claim = await claimRetrain(db, { projectId: input.projectId, endpointId: endpoint.id, modelId: model.modelId, episode, workflowId: input.workflowId, trigger });
      if (claim.kind === 'skipped') return result(claim.run, false, claim.running.workflowId);
      if (claim.kind === 'existing') return result(claim.run, false, claim.run.workflowId);
      return result(claim.run, claim.run.status === 'running', null);
    },

    /**
     * The endpoint's stable version and the pipeline to retrain it with: its training run's target, features and spec
     * (with the configured `retrain.model` applied) under the model's stored policy in force on the endpoint.
     */
    async readRetrainBase(input: { projectId: string; endpointName: string }): Promise<RetrainBase> {
      const endpoint = await findEndpointForMonitoring(db, input.projectId, input.endpointName);
      const base = await readRetrainBaseRows(db, endpoint.id);
      if (!base) throw new UserError('nothing_to_retrain', `Endpoint ${endpoint.name} serves no stable version; deploy a model before retraining it.`, 409);
      const config = await readMonitoringConfig(db, endpoint.id);
      const effective = await readModelPolicy(db, base.version.modelId, endpoint.id);
      const pipeline = pipelineFromRun(base, endpoint.name, effective, deps.activityTimeouts);
      return {
        baseModelVersionId: base.version.id,
        baseModel: { name: base.version.modelName, version: base.version.version },
        deployedAt: base.deployedAt.toISOString(),
        pipeline: applyRetrainModel(pipeline, config.retrain.model, Context.current().info.taskQueue),
        policy: { source: effective.source, version: effective.version },
      };
    },

    async recordRetrainStep(input: { workflowId: string; datasetVersionId?: string; pipelineWorkflowId?: string }): Promise<void> {
      const { workflowId, ...progress } = input;
      await recordRetrainProgress(db, workflowId, progress);
    },

    /** Ends the workflow's claim (once): the model is free for the next retrain. A failure says when the episode's next attempt may start. */
    async finishRetrainRun(input: { workflowId: string; status: 'succeeded' | 'failed'; outcome: RetrainOutcome; modelVersionId?: string | null }): Promise<FinishedRetrain> {
      const run = await finishRetrain(db, input.workflowId, input);
      return { attempt: run?.attempt ?? 1, maxAttempts: run?.maxAttempts ?? 1, nextAttemptAt: run?.retryAt?.toISOString() ?? null };
    },
  };
}
