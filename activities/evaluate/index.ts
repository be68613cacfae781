import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { trainingRuns } from '../../db/schema';
import type { EvaluationReport } from '../../domain/model';
import { evaluateBinary, evaluateClassification, evaluateRegression } from '../../ml/metrics';
import { onnxOutputNames } from '../../ml/onnx-export';
import { predictOutputs } from '../../ml/tf-model';
import { initTfBackend } from '../../ml/tf-backend';
import type { TrainedModel } from '../../ml/trained-model';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { FailureType, type EvaluateInput, type EvaluationSummary } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { throttledHeartbeat } from '../heartbeat';
import { selectRows, selectValues } from '../../data/design-matrix';
import { loadTrainingData } from '../train/load-training-data';

/** ONNX and TensorFlow.js must agree this closely on every held-out row. */
export const PARITY_TOLERANCE = 1e-4;

/** Held-out rows scored between two heartbeats. */
const EVALUATION_CHUNK_ROWS = 8192;

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    /**
     * Scores the ONNX artifact (exactly what will be served) on the held-out split, and checks that it
     * reproduces the TensorFlow.js model row by row.
     */
    async evaluateOnHoldout(input: EvaluateInput): Promise<EvaluationSummary> {
      const beat = throttledHeartbeat(Context.current());
      beat({ rows: 0 }, true);
      await initTfBackend({ preferGpu: false });
      const { run, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
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

      const common = { split: { testFraction: run.spec.testFraction, seed: run.spec.seed, rows: n }, parity: { rows: n, maxAbsDiff, tolerance: PARITY_TOLERANCE } };
      let report: EvaluationReport;
      let summary: EvaluationSummary;
      if (trained.task === 'regression') {
        const metrics = evaluateRegression(labels, onnxOutputs);
        report = { task: 'regression', ...common, ...metrics };
        summary = { task: 'regression', ...metrics, rows: n, parityMaxAbsDiff: maxAbsDiff };
      } else {
        const metrics = evaluateClassification(labels, onnxOutputs, trained.classes);
        const binary = trained.classes.length === 2 ? evaluateBinary(labels, Float32Array.from({ length: n }, (_, i) => onnxOutputs[i * 2 + 1] as number)) : null;
        report = { task: 'classification', ...common, ...metrics, ...(binary && { positives: binary.positives, confusion: binary.confusion }) };
        summary = { task: 'classification', accuracy: metrics.accuracy, rocAuc: metrics.rocAuc, logLoss: metrics.logLoss, macroF1: metrics.macroF1, rows: n, parityMaxAbsDiff: maxAbsDiff };
      }
      await deps.db.update(trainingRuns).set({ evaluation: report }).where(eq(trainingRuns.id, run.id));
      return summary;
    },
  };
}
