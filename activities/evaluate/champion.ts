import { and, eq } from 'drizzle-orm';
import { modelAliases, models, modelVersions } from '../../db/schema';
import type { ModelInputSchema, ModelOutputSchema } from '../../db/schema/models';
import type { DatasetTable } from '../../data/dataset-schema';
import type { ChampionComparison, ChampionExclusion, MetricValues } from '../../domain/model';
import { selectScored, taskMetricValues, type ScoredTask } from '../../ml/metrics';
import type { ChampionMetrics } from '../../ml/thresholds';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import type { ActivityDeps } from '../deps';
import { championTrainingRows } from './champion-training-rows';

export interface ChampionVersion {
  id: string;
  version: number;
  onnxUri: string;
  /** Null for an uploaded version. */
  trainingRunId: string | null;
  inputSchema: ModelInputSchema;
  outputSchema: ModelOutputSchema;
}

/** The version holding `production` of this project's registered model, or null when there is none. */
export async function findProductionVersion(deps: ActivityDeps, projectId: string, modelName: string): Promise<ChampionVersion | null> {
  const [row] = await deps.db
    .select({
      id: modelVersions.id,
      version: modelVersions.version,
      onnxUri: modelVersions.onnxUri,
      trainingRunId: modelVersions.trainingRunId,
      inputSchema: modelVersions.inputSchema,
      outputSchema: modelVersions.outputSchema,
    })
    .from(models)
    .innerJoin(modelAliases, and(eq(modelAliases.modelId, models.id), eq(modelAliases.alias, 'production')))
    .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.modelVersionId))
    .where(and(eq(models.projectId, projectId), eq(models.name, modelName)));
  return row ?? null;
}

export interface HoldoutContext {
  deps: ActivityDeps;
  table: DatasetTable;
  /** Table rows of the held-out rows, in held-out order. */
  sourceRows: Uint32Array;
  task: ScoredTask;
  labels: Float32Array;
  /** The candidate's metrics on every held-out row and its ONNX outputs. */
  candidate: MetricValues;
  candidateOutputs: Float32Array;
}

export interface ChampionResult {
  comparison: ChampionComparison;
  /** What relative thresholds compare; null without a comparison. */
  judged: ChampionMetrics | null;
}

const none = (reason: string, modelVersionId: string | null = null): ChampionResult => ({ comparison: { status: 'none', reason, modelVersionId }, judged: null });

/**
 * Scores the production version's own ONNX on the candidate's held-out rows that hold all of the champion's
 * features and that the champion did not train on, so both are compared on the same rows, unseen by either.
 */
export async function compareWithChampion(ctx: HoldoutContext, projectId: string, modelName: string, beat: () => void): Promise<ChampionResult> {
  const champion = await findProductionVersion(ctx.deps, projectId, modelName);
  if (!champion) return none(`no version of ${modelName} holds production yet`);
  const label = `v${champion.version}`;
  const championTask = champion.outputSchema.task === 'regression' ? 'regression' : 'classification';
  if (championTask !== ctx.task.task) return none(`the champion ${label} is a ${championTask} model and the candidate ${ctx.task.task}`, champion.id);
  if (ctx.task.task === 'classification' && champion.outputSchema.name !== 'value') {
    const classes = champion.outputSchema.classes;
    if (classes.join('\u0000') !== ctx.task.classes.join('\u0000')) {
      return none(`the champion ${label} predicts the classes [${classes.join(', ')}] and the candidate [${ctx.task.classes.join(', ')}]`, champion.id);
    }
  }
  const features = champion.inputSchema.features;
  const missing = features.filter((f) => ctx.table.schema.find((c) => c.name === f)?.type !== 'number');
  if (missing.length > 0) return none(`the champion ${label} needs the features ${missing.join(', ')}, which this dataset version lacks as numeric columns`, champion.id);

  const columns = features.map((f) => ctx.table.numberColumn(f));
  // Only rows neither trained on: the candidate's held-out rows minus those in the champion's training split.
  const learnt = await championTrainingRows(ctx.deps, champion.trainingRunId, label, ctx.table, ctx.sourceRows);
  if ('unknown' in learnt) return none(`not compared: ${learnt.unknown}`, champion.id);
  const rows: number[] = [];
  let [incomplete, trained] = [0, 0];
  for (let i = 0; i < ctx.sourceRows.length; i++) {
    const source = ctx.sourceRows[i] as number;
    if (!columns.every((c) => Number.isFinite(c[source]))) incomplete++;
    else if (learnt.trained[i] === 1) trained++;
    else rows.push(i);
  }
  if (incomplete === ctx.sourceRows.length) return none(`the champion ${label}'s features are missing on every held-out row`, champion.id);
  if (rows.length === 0) return none(`every held-out row with the champion ${label}'s features is ${learnt.why}`, champion.id);
  const excluded: ChampionExclusion[] = [
    ...(trained > 0 ? [{ rows: trained, reason: learnt.why }] : []),
    ...(incomplete > 0 ? [{ rows: incomplete, reason: `missing a feature the champion ${label} needs` }] : []),
  ];
  const width = features.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => columns.forEach((c, j) => (x[i * width + j] = c[ctx.sourceRows[row] as number] as number)));

  const session = await loadOnnxSession(await ctx.deps.artifacts.get(champion.onnxUri));
  const outputs: Float32Array[] = [];
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, rows.length - start);
    outputs.push(await runOnnxModel(session, x.subarray(start * width, (start + n) * width), n, width, champion.outputSchema.name));
    beat();
  }
  await session.release();
  let championOutputs = concat(outputs);
  // Versions from before multi-class serve only the second class's probability: widen to [1 − p, p].
  if (champion.outputSchema.name === 'probability') championOutputs = Float32Array.from({ length: championOutputs.length * 2 }, (_, k) => (k % 2 === 1 ? (championOutputs[(k - 1) / 2] as number) : 1 - (championOutputs[k / 2] as number)));

  const outputWidth = ctx.task.task === 'regression' ? 1 : ctx.task.classes.length;
  const same = selectScored(ctx.labels, ctx.candidateOutputs, outputWidth, rows);
  const candidate = rows.length === ctx.labels.length ? ctx.candidate : taskMetricValues(ctx.task, same.labels, same.outputs);
  const championMetrics = taskMetricValues(ctx.task, same.labels, championOutputs);
  return {
    comparison: { status: 'compared', modelVersionId: champion.id, version: champion.version, rows: rows.length, champion: championMetrics, candidate, excluded },
    judged: { label, champion: championMetrics, candidate },
  };
}

/** Held-out rows scored per ONNX call. */
const CHUNK_ROWS = 8192;

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
