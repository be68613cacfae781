import type { ModelOutputSchema } from '../db/schema/models';
import { predictedClass } from '../ml/metrics';

export type RawPrediction = { label: string | number; probability?: number; probabilities: Record<string, number> } | { value: number };

/**
 * Turns an ONNX output (row-major) into answers: the predicted label as the user wrote it, with each class's
 * probability, or the value. Reads both today's `probabilities` and the older binary `probability` output.
 */
export function readPredictions(schema: ModelOutputSchema, outputs: Float32Array, n: number): RawPrediction[] {
  if (schema.name === 'value') return Array.from({ length: n }, (_, i) => ({ value: outputs[i] as number }));
  const { classes, labelType } = schema;
  const k = classes.length;
  const perClass = schema.name === 'probability' ? Float32Array.from({ length: n * 2 }, (_, j) => (j % 2 === 1 ? (outputs[(j - 1) / 2] as number) : 1 - (outputs[j / 2] as number))) : outputs;
  return Array.from({ length: n }, (_, i) => {
    const label = classes[predictedClass(perClass, i, k)] ?? '';
    const probabilities = Object.fromEntries(classes.map((c, j) => [c, perClass[i * k + j] as number]));
    return {
      label: labelType === 'number' ? Number(label) : label,
      ...(k === 2 && { probability: perClass[i * 2 + 1] }),
      probabilities,
    };
  });
}
