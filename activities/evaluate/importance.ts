import type { InferenceSession } from 'onnxruntime-node';
import type { FeatureImportance } from '../../domain/model';
import { predictedClass, regressionMetricValues, type ScoredTask } from '../../ml/metrics';
import { permutationImportance } from '../../ml/importance';
import { runOnnxModel } from '../../serving/onnx-session';

/** Shuffles per feature: enough for a stable mean, cheap on a few thousand rows. */
export const IMPORTANCE_REPEATS = 5;
/** At most this many held-out rows are permuted: importance is a ranking, not a precise figure. */
export const IMPORTANCE_MAX_ROWS = 5000;

/** Permutation importance of each feature with the served ONNX session, on the headline metric (accuracy or R²). */
export async function importanceOnHoldout(
  session: InferenceSession,
  x: Float32Array,
  n: number,
  features: string[],
  outputName: string,
  task: ScoredTask,
  labels: Float32Array,
  seed: number,
  progress: () => void,
): Promise<FeatureImportance> {
  const rows = Math.min(n, IMPORTANCE_MAX_ROWS);
  const width = features.length;
  const y = labels.subarray(0, rows);
  return permutationImportance({
    x: x.slice(0, rows * width),
    n: rows,
    features,
    metric: task.task === 'regression' ? 'r2' : 'accuracy',
    repeats: IMPORTANCE_REPEATS,
    seed,
    progress,
    score: async (permuted) => {
      const outputs = await runOnnxModel(session, permuted, rows, width, outputName);
      if (task.task === 'regression') return regressionMetricValues(y, outputs).r2;
      let correct = 0;
      for (let i = 0; i < rows; i++) if (predictedClass(outputs, i, task.classes.length) === y[i]) correct++;
      return correct / rows;
    },
  });
}
