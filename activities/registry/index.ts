import { callingWorkflow } from '../calling-workflow';
import { and, eq, max } from 'drizzle-orm';
import { auditLog, datasets, modelAliases, models, modelVersions, trainingRuns, datasetVersions } from '../../db/schema';
import type { ModelLineage } from '../../domain/lineage';
import { buildModelCard } from '../../registry/model-card';
import { newId } from '../../platform/ids';
import { UserError } from '../../platform/user-error';
import type { RegisterInput, RegisterResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { decideBlessing, headlineMetric } from '../../ml/blessing';
import type { ModelOutputSchema } from '../../db/schema/models';
import type { Blessing, EvaluationReport } from '../../domain/model';

export function createRegistryActivities(deps: ActivityDeps) {
  return {
    /** One model version per training run: a retry finds the version it already wrote. */
    async registerModelVersion(input: RegisterInput & RegisterLineageInput): Promise<RegisterResult> {
      const registerWorkflowId = callingWorkflow().workflowId;
      const actor = `workflow:${registerWorkflowId}`;
      return deps.db.transaction(async (tx) => {
        const [run] = await tx.select().from(trainingRuns).where(eq(trainingRuns.id, input.trainingRunId));
        if (!run?.evaluation) {
          throw new UserError('training_run_not_evaluated', `Training run ${input.trainingRunId} has no evaluation to register.`, 409);
        }
        const [model] = await tx
          .insert(models)
          .values({ id: newId('mdl'), projectId: input.projectId, name: input.modelName })
          .onConflictDoUpdate({ target: [models.projectId, models.name], set: { name: input.modelName } })
          .returning();
        if (!model) throw new Error(`model ${input.modelName} was not written`);

        const [existing] = await tx
          .select()
          .from(modelVersions)
          .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.trainingRunId, run.id)));
        if (existing) {
          return {
            modelVersionId: existing.id,
            modelName: model.name,
            version: existing.version,
            blessed: existing.blessing.decision === 'blessed',
            reasons: existing.blessing.reasons,
          };
        }

        // The evaluate stage decides the blessing (it scored candidate and champion on the same rows); runs evaluated before it did are decided here as before.
        const blessing = run.blessing ?? (await legacyBlessing(tx, model.id, run.evaluation, input));

        const [latest] = await tx.select({ version: max(modelVersions.version) }).from(modelVersions).where(eq(modelVersions.modelId, model.id));
        const version = (latest?.version ?? 0) + 1;
        const [datasetVersion] = await tx.select().from(datasetVersions).where(eq(datasetVersions.id, run.datasetVersionId));
        const targetType = datasetVersion?.schema.find((c) => c.name === run.target)?.type ?? 'string';
        const outputSchema: ModelOutputSchema =
          run.task === 'regression'
            ? { name: 'value', task: 'regression', target: run.target }
            : { name: 'probabilities', task: 'classification', classes: run.classes ?? [], labelType: targetType };
        const id = newId('mv');
        const createdAt = new Date();
        const [dataset] = datasetVersion ? await tx.select().from(datasets).where(eq(datasets.id, datasetVersion.datasetId)) : [];
        const pipeline = input.pipelineWorkflowId ?? null;
        const lineage: ModelLineage = {
          trainingRunId: run.id,
          dataset: {
            id: datasetVersion?.datasetId ?? run.datasetVersionId,
            name: dataset?.name ?? null,
            versionId: run.datasetVersionId,
            version: datasetVersion?.version ?? null,
            contentHash: datasetVersion?.contentHash ?? null,
          },
          codeVersion: run.codeVersion,
          // The pipeline names its stages `<pipeline>/<stage>` (workflows/pipeline.ts).
          workflows: { pipeline, train: run.workflowId, export: pipeline && `${pipeline}/export`, evaluate: pipeline && `${pipeline}/evaluate`, register: registerWorkflowId },
        };
        const card = buildModelCard({
          model: { name: model.name },
          version: { id, version, createdAt, onnxSha256: input.onnxSha256, features: run.features },
          run,
          dataset: datasetVersion ? { id: datasetVersion.id, name: dataset?.name ?? null, version: datasetVersion.version, rows: datasetVersion.rowCount } : null,
          evaluation: run.evaluation,
          blessing,
          lineage,
        });
        await tx.insert(modelVersions).values({
          id,
          modelId: model.id,
          version,
          trainingRunId: run.id,
          datasetVersionId: run.datasetVersionId,
          onnxUri: input.onnxUri,
          onnxSha256: input.onnxSha256,
          inputSchema: { name: 'features', features: run.features },
          outputSchema,
          evaluation: run.evaluation,
          blessing,
          modelCard: { ...card.json, training: { runId: run.id, backend: run.backend, taskQueue: run.taskQueue, codeVersion: run.codeVersion } },
          lineage,
          createdAt,
        });
        await tx.insert(auditLog).values({
          projectId: input.projectId,
          actor,
          action: 'model_version.registered',
          subjectType: 'model_version',
          subjectId: id,
          details: { model: model.name, version, blessing: blessing.decision },
        });
        return { modelVersionId: id, modelName: model.name, version, blessed: blessing.decision === 'blessed', reasons: blessing.reasons };
      });
    },
  };
}

type Tx = Parameters<Parameters<ActivityDeps['db']['transaction']>[0]>[0];

/** Today's headline-metric blessing, against the production version's stored evaluation (not the same rows). */
async function legacyBlessing(tx: Tx, modelId: string, evaluation: EvaluationReport, input: RegisterInput): Promise<Blessing> {
  const [championRow] = await tx
    .select({ id: modelVersions.id, evaluation: modelVersions.evaluation })
    .from(modelAliases)
    .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.modelVersionId))
    .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.alias, 'production')));
  const champion = championRow ? { modelVersionId: championRow.id, ...headlineMetric(championRow.evaluation) } : null;
  return decideBlessing(evaluation, { minAccuracy: input.minAccuracy, minR2: input.minR2 ?? null }, champion);
}

/** What the register workflow adds for lineage: the pipeline that ran it, when there is one. */
export interface RegisterLineageInput {
  pipelineWorkflowId?: string | null;
}
