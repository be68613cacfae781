import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { trainingRuns } from '../../db/schema';
import type { Blessing, EvaluationReport } from '../../domain/model';
import { blessingFromVerdicts, headlineMetric } from '../../ml/blessing';
import { driftBaseline } from '../../ml/drift-baseline';
import { fairnessReport } from '../../ml/fairness';
import { evaluateBinary, evaluateClassification, evaluateRegression, meanAbsolutePercentageError, predictedClass, taskMetricValues, type ScoredTask } from '../../ml/metrics';
import { sliceColumn } from '../../ml/slices';
import { judgeThresholds, shorthandThresholds, withDefaultMaxDrop } from '../../ml/thresholds';
import { compareWithChampion } from './champion';
import { checkFairness } from './fairness-request';
import { importanceOnHoldout } from './importance';
import { onnxOutputNames } from '../../ml/onnx-export';
import { predictOutputs } from '../../ml/tf-model';
import { initTfBackend } from '../../ml/tf-backend';
import type { TrainedModel } from '../../ml/trained-model';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { FailureType, type EvaluateInput, type EvaluationSummary } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { throttledHeartbeat } from '../heartbeat';
import { alignedStrings, selectRows, selectValues } from '../../data/design-matrix';
import { loadTrainingData } from '../train/load-training-data';

/** ONNX and TensorFlow.js must agree this closely on every held-out row. */
export const PARITY_TOLERANCE = 1e-4;

/** Held-out rows scored between two heartbeats. */
const EVALUATION_CHUNK_ROWS = 8192;

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    /**
     * Scores the ONNX artifact (exactly what will be served) on the held-out split, checks that it
     * reproduces the TensorFlow.js model row by row, adds slices, fairness and permutation importance, scores
     * the production version on the same rows, judges every threshold and stores report and blessing on the run.
     */
    async evaluateOnHoldout(input: EvaluateInput): Promise<EvaluationSummary> {
      const beat = throttledHeartbeat(Context.current());
      beat({ rows: 0 }, true);
      await initTfBackend({ preferGpu: false });
      const { run, table, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
      const fairness = input.fairness ? checkFairness(input.fairness, run.task === 'regression' ? null : (run.classes ?? [])) : null;
      const width = run.features.length;
      const n = split.test.length;
      const x = selectRows(matrix.x, width, split.test);
      const labels = selectValues(matrix.y, split.test);

      const trained = await deps.artifacts.getJson<TrainedModel>(input.modelUri);
      const session = await loadOnnxSession(await deps.artifacts.get(input.onnxUri));
      const [outputName = 'probabilities'] = onnxOutputNames(trained);
      // In chunks of rows, heartbeating after each: scoring a large held-out split takes a while.
      const outputWidth = trained.task === 'regression' ? 1 : trained.classes.length;
      const onnxOutputs = new Float32Array(n * outputWidth);
      const tfOutputs = new Float32Array(n * outputWidth);
      for (let start = 0; start < n; start += EVALUATION_CHUNK_ROWS) {
        const rows = Math.min(EVALUATION_CHUNK_ROWS, n - start);
        const chunk = x.subarray(start * width, (start + rows) * width);
        const onnxChunk = await runOnnxModel(session, chunk, rows, width, outputName);
        const tfChunk = predictOutputs(trained, chunk, rows);
        if (onnxChunk.length !== rows * outputWidth || tfChunk.length !== rows * outputWidth) {
          throw ApplicationFailure.create({
            type: FailureType.OnnxParityFailed,
            message: `The ONNX export gives ${onnxChunk.length / rows} outputs per row and the trained model ${tfChunk.length / rows}; both should give ${outputWidth}.`,
            nonRetryable: true,
          });
        }
        onnxOutputs.set(onnxChunk, start * outputWidth);
        tfOutputs.set(tfChunk, start * outputWidth);
        beat({ rows: start + rows, of: n });
      }
      // Regression values are compared in target standard deviations, so the tolerance means the same at any scale.
      const scale = trained.task === 'regression' ? trained.target.std : 1;
      let maxAbsDiff = 0;
      for (let i = 0; i < tfOutputs.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((onnxOutputs[i] as number) - (tfOutputs[i] as number)) / scale);
      }
      if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
        throw ApplicationFailure.create({
          type: FailureType.OnnxParityFailed,
          message: `The ONNX export differs from the trained model by ${maxAbsDiff} (tolerance ${PARITY_TOLERANCE}) on the held-out rows.`,
          nonRetryable: true,
        });
      }

      const splitMethod = run.split ? { method: 'hash' as const, key: run.split.key } : { method: 'shuffled' as const };
      const common = { split: { testFraction: run.spec.testFraction, seed: run.spec.seed, rows: n, ...splitMethod }, parity: { rows: n, maxAbsDiff, tolerance: PARITY_TOLERANCE } };
      const scoredTask: ScoredTask = trained.task === 'regression' ? { task: 'regression' } : { task: 'classification', classes: trained.classes };
      const metrics = taskMetricValues(scoredTask, labels, onnxOutputs);
      let report: EvaluationReport;
      let summary: EvaluationSummary;
      if (trained.task === 'regression') {
        const basic = evaluateRegression(labels, onnxOutputs);
        const mape = meanAbsolutePercentageError(labels, onnxOutputs);
        report = { task: 'regression', ...common, ...basic, mape: mape.mape, mapeSkippedZeroTargets: mape.skippedZeroTargets, metrics };
        summary = { task: 'regression', ...basic, rows: n, parityMaxAbsDiff: maxAbsDiff };
      } else {
        const basic = evaluateClassification(labels, onnxOutputs, trained.classes);
        const binary = trained.classes.length === 2 ? evaluateBinary(labels, Float32Array.from({ length: n }, (_, i) => onnxOutputs[i * 2 + 1] as number)) : null;
        report = { task: 'classification', ...common, ...basic, ...(binary && { positives: binary.positives, confusion: binary.confusion }), metrics };
        summary = { task: 'classification', accuracy: basic.accuracy, rocAuc: basic.rocAuc, logLoss: basic.logLoss, macroF1: basic.macroF1, rows: n, parityMaxAbsDiff: maxAbsDiff };
      }

      const sourceRows = Uint32Array.from(split.test, (row) => matrix.sourceRows[row] as number);
      if (input.slices && input.slices.length > 0) {
        report.slices = input.slices.map((column) => sliceColumn(column, alignedStrings(table, column, matrix, split.test), scoredTask, labels, onnxOutputs));
      }
      if (fairness && scoredTask.task === 'classification') {
        const favorableIndex = scoredTask.classes.indexOf(fairness.favorable);
        report.fairness = fairnessReport({
          ...fairness,
          groups: alignedStrings(table, fairness.sensitive, matrix, split.test),
          actualFavorable: Array.from(labels, (label) => label === favorableIndex),
          predictedFavorable: Array.from({ length: n }, (_, i) => predictedClass(onnxOutputs, i, 2) === favorableIndex),
        });
      }
      report.baseline = await driftBaseline({ features: run.features, trainX: selectRows(matrix.x, width, split.train), task: scoredTask, outputs: onnxOutputs });
      beat({ stage: 'importance' }, true);
      report.importance = await importanceOnHoldout(session, x, n, run.features, outputName, scoredTask, labels, run.spec.seed, () => beat({ stage: 'importance' }));

      let blessing: Blessing | null = null;
      if (input.projectId !== undefined && input.modelName !== undefined) {
        const champion = await compareWithChampion(
          { deps, table, sourceRows, task: scoredTask, labels, candidate: metrics, candidateOutputs: onnxOutputs },
          input.projectId,
          input.modelName,
          () => beat({ stage: 'champion' }),
        );
        report.champion = champion.comparison;
        const thresholds = withDefaultMaxDrop(scoredTask.task, [...shorthandThresholds(scoredTask.task, input), ...(input.thresholds ?? [])]);
        const verdicts = judgeThresholds(thresholds, metrics, champion.judged);
        const headline = headlineMetric(report);
        const championValue = champion.judged?.champion[headline.metric] ?? null;
        const comparison = champion.comparison;
        blessing = blessingFromVerdicts(
          verdicts,
          { minAccuracy: input.minAccuracy ?? 0, minR2: input.minR2 ?? null },
          comparison.status === 'compared' && championValue !== null ? { modelVersionId: comparison.modelVersionId, version: comparison.version, metric: headline.metric, value: championValue } : null,
          comparison.status === 'none' ? comparison.reason : null,
        );
        summary = { ...summary, blessed: blessing.decision === 'blessed', failedThresholds: blessing.reasons, champion: comparison.status === 'compared' ? `v${comparison.version}` : null };
      }
      await session.release();
      // One write of report and blessing together: a retry rewrites both, nothing half-written.
      await deps.db.update(trainingRuns).set({ evaluation: report, blessing }).where(eq(trainingRuns.id, run.id));
      return summary;
    },
  };
}
