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
import { selectRows, selectValues } from '../../data/design-matrix';
import { loadTrainingData } from '../train/load-training-data';

/** ONNX and TensorFlow.js must agree this closely on every held-out row. */
export const PARITY_TOLERANCE = 1e-4;

export function createEvaluateActivities(deps: ActivityDeps) {
  return {
    /**
     * Scores the ONNX artifact (exactly what will be served) on the held-out split, and checks that it
     * reproduces the TensorFlow.js model row by row.
     */
    async evaluateOnHoldout(input: EvaluateInput): Promise<EvaluationSummary> {
      await initTfBackend({ preferGpu: false });
      const { run, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
      const width = run.features.length;
      const n = split.test.length;
      const x = selectRows(matrix.x, width, split.test);
      const labels = selectValues(matrix.y, split.test);

      const trained = await deps.artifacts.getJson<TrainedModel>(input.modelUri);
      const session = await loadOnnxSession(await deps.artifacts.get(input.onnxUri));
      const [outputName = 'probabilities'] = onnxOutputNames(trained);
      const onnxOutputs = await runOnnxModel(session, x, n, width, outputName);
      const tfOutputs = predictOutputs(trained, x, n);
      // Regression values are compared in target standard deviations, so the tolerance means the same at any scale.
      const scale = trained.task === 'regression' ? trained.target.std : 1;
      let maxAbsDiff = 0;
      for (let i = 0; i < tfOutputs.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((onnxOutputs[i] as number) - (tfOutputs[i] as number)) / scale);
      }
      if (onnxOutputs.length !== tfOutputs.length || !(maxAbsDiff <= PARITY_TOLERANCE)) {
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
