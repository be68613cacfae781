import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';
import { resolveTrainingColumns } from '../../data/training-columns';
import { checkSplitKey } from '../../data/row-split';
import { checkFamilyForTask, chooseTask, profileFromStats, profileValues } from '../../data/target-task';
import { decodeDatasetArrow } from '../../data/columnar';
import type { ModelSpec, TaskChoice } from '../../domain/model';
import type { DatasetVersionRow } from '../../db/queries/datasets';
import { factoryPipeline } from '../../workflows';
import { factorySearchAttributes, type PipelineInput } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { followStoredPolicy, policyFieldsOf, policyRequestFields } from '../model-policy-request';
import { checkResourceName, parseJsonBody, RESOURCE_NAME } from '../json-body';
import { hasPermission, requireRole } from '../middleware/api-key-auth';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';
import { findDataset, findDatasetVersion } from '../../db/queries/datasets';
import { applyPipelinePolicy } from '../../db/queries/pipeline-policies';

const name = z.string().regex(RESOURCE_NAME, "use lowercase letters, digits, '.', '_' or '-'");

export const pipelineModelSchema = z
  .object({
    type: z.enum(['logistic', 'mlp', 'linear']),
    epochs: z.number().int().min(1).max(1000).default(30),
    learningRate: z.number().positive().max(10).default(0.05),
    batchSize: z.number().int().min(1).max(65536).default(64),
    hiddenUnits: z.array(z.number().int().min(1).max(4096)).max(8).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    testFraction: z.number().gt(0).lt(1).default(0.2),
    accelerator: z.enum(['cpu', 'gpu']).default('cpu'),
  })
  .strict();

const pipelineRequest = z
  .object({
    dataset: z.union([name, z.object({ name, version: z.union([z.number().int().positive(), z.literal('latest')]).default('latest') }).strict()]),
    target: z.string().min(1),
    task: z.enum(['classification', 'regression']).optional(),
    features: z.array(z.string().min(1)).max(2000).optional(),
    splitKey: z.string().min(1).max(200).optional(),
    model: pipelineModelSchema,
    endpoint: name,
    registeredModel: name.optional(),
    minAccuracy: z.number().min(0).max(1).default(0),
    minR2: z.number().max(1).optional(),
    ...policyRequestFields,
  })
  .strict();

export function pipelineRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Checks the request against the dataset now, so a bad one fails here with a 4xx, then starts the pipeline. */
  app.post('/', requireRole('operator'), async (c) => {
    const idempotencyKey = idempotencyKeyOf(c);
    const body = await parseJsonBody(c, pipelineRequest);
    const { projectId, keyId, role } = c.get('auth');
    const datasetRef = typeof body.dataset === 'string' ? { name: body.dataset, version: 'latest' as const } : body.dataset;
    const dataset = await findDataset(deps.db, projectId, checkResourceName('dataset', datasetRef.name));
    const version = await findDatasetVersion(deps.db, dataset, datasetRef.version);
    const features = resolveTrainingColumns(version.schema, body.target, body.features ?? []);
    checkSplitKey(version.schema, body.splitKey);
    const task = await chooseVersionTask(deps, version, body.target, body.task);
    checkFamilyForTask(body.model.type, task);
    const policyContext = { schema: version.schema, task, targetStats: version.stats.find((s) => s.name === body.target) };
    const set = policyFieldsOf(body, policyContext);

    const { accelerator, hiddenUnits, ...hyper } = body.model;
    const spec: ModelSpec = { ...hyper, hiddenUnits: body.model.type === 'mlp' ? (hiddenUnits ?? [16]) : [] };
    const modelName = body.registeredModel ?? body.endpoint;
    const base: PipelineInput = {
      projectId,
      datasetVersionId: version.id,
      target: body.target,
      features,
      spec,
      ...(body.splitKey !== undefined && { splitKey: body.splitKey }),
      ...(body.task && { task: body.task }),
      accelerator,
      trainingTaskQueue: accelerator === 'gpu' ? deps.taskQueues.gpu : deps.taskQueues.cpu,
      endpointName: body.endpoint,
      modelName,
      minAccuracy: body.minAccuracy,
      ...(body.minR2 !== undefined && { minR2: body.minR2 }),
      timeouts: deps.activityTimeouts,
      requestedBy: keyId,
    };
    const request = { key: idempotencyKey, route: 'POST /v1/pipelines', requestHash: sha256Hex(await c.req.text()) };
    // With a key, the id is derived from it, so no retry or race can start a second run of the same request.
    const workflowId = `pipeline-${body.endpoint}-${idempotencyKey === undefined ? randomUUID().slice(0, 8) : sha256Hex(projectId, idempotencyKey).slice(0, 16)}`;
    return answerOnce(c, deps.db, request, async () => {
      // Before the start: a retry after a crash in between stores the same policy again, which makes no new version.
      const { effective, stored } = await applyPipelinePolicy(deps.db, {
        projectId,
        modelName,
        endpointName: body.endpoint,
        set,
        mayChange: hasPermission(role, 'administer'),
        actor: keyId,
        reason: `set by pipeline ${workflowId}`,
      });
      // The fields the body leaves out follow the policy in force for the model on this endpoint, as a retrain would.
      const { fields, fromStored, notApplied } = followStoredPolicy(set, effective.policy, policyContext);
      const input: PipelineInput = { ...base, ...fields };
      const runId = await startOnce(deps, workflowId, {
        taskQueue: deps.taskQueues.cpu,
        workflowId,
        memo: { projectId },
        typedSearchAttributes: factorySearchAttributes({ projectId, dataset: dataset.name, model: input.modelName, endpoint: input.endpointName }),
        args: [input],
      });
      return {
        status: 202,
        body: { workflowId, runId, status: workflowStatusPath(workflowId), dataset: { name: dataset.name, version: version.version }, features, task, policy: { model: modelName, follows: { source: effective.source, version: effective.version }, stored, fromStored, notApplied }, ...temporalUiLink(deps, workflowId) },
      };
    });
  });

  return app;
}

/** The task from the target's stored statistics; versions ingested before numbers had distinct counts are read once. */
async function chooseVersionTask(deps: ApiDeps, version: DatasetVersionRow, target: string, declared: TaskChoice['task'] | undefined): Promise<TaskChoice> {
  const stats = version.stats.find((s) => s.name === target);
  const profile = stats ? profileFromStats(stats) : null;
  if (profile) return chooseTask(target, profile, declared);
  const table = decodeDatasetArrow(await deps.artifacts.get(version.artifactUri));
  const type = version.schema.find((c) => c.name === target)?.type ?? 'string';
  return chooseTask(target, profileValues(table.stringColumn(target), type), declared);
}

/** Starts the pipeline unless a run with this id exists, open or closed; either way answers with that run. */
async function startOnce(deps: ApiDeps, workflowId: string, options: WorkflowStartOptions<typeof factoryPipeline>): Promise<string> {
  try {
    const handle = await deps.temporal.workflow.start(factoryPipeline, {
      ...options,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return handle.firstExecutionRunId;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return (await deps.temporal.workflow.getHandle(workflowId).describe()).runId;
  }
}
