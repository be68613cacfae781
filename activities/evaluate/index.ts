import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { ApplicationFailure } from '@temporalio/common';
import { trainingRuns } from '../../db/schema';
import type { EvaluationReport } from '../../domain/model';
import { evaluateBinary } from '../../ml/metrics';
import { predictProbabilities } from '../../ml/tf-model';
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
      // In chunks of rows, heartbeating after each: scoring a large held-out split takes a while.
      const onnxProbabilities = new Float32Array(n);
      const tfProbabilities = new Float32Array(n);
      for (let start = 0; start < n; start += EVALUATION_CHUNK_ROWS) {
        const rows = Math.min(EVALUATION_CHUNK_ROWS, n - start);
        const chunk = x.subarray(start * width, (start + rows) * width);
        onnxProbabilities.set(await runOnnxModel(session, chunk, rows, width), start);
        tfProbabilities.set(predictProbabilities(trained, chunk, rows), start);
        beat({ rows: start + rows, of: n });
      }
      let maxAbsDiff = 0;
      for (let i = 0; i < n; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((onnxProbabilities[i] as number) - (tfProbabilities[i] as number)));
      }
      if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
        throw ApplicationFailure.create({
          type: FailureType.OnnxParityFailed,
          message: `The ONNX export differs from the trained model by ${maxAbsDiff} (tolerance ${PARITY_TOLERANCE}) on the held-out rows.`,
          nonRetryable: true,
        });
      }

      const metrics = evaluateBinary(labels, onnxProbabilities);
      const report: EvaluationReport = {
        split: { testFraction: run.spec.testFraction, seed: run.spec.seed, rows: n },
        accuracy: metrics.accuracy,
        rocAuc: metrics.rocAuc,
        logLoss: metrics.logLoss,
        positives: metrics.positives,
        confusion: metrics.confusion,
        parity: { rows: n, maxAbsDiff, tolerance: PARITY_TOLERANCE },
      };
      await deps.db.update(trainingRuns).set({ evaluation: report }).where(eq(trainingRuns.id, run.id));
      return { accuracy: metrics.accuracy, rocAuc: metrics.rocAuc, logLoss: metrics.logLoss, rows: n, parityMaxAbsDiff: maxAbsDiff };
    },
  };
}
