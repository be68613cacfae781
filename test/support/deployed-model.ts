import type { ModelOutputSchema } from '../../db/schema';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedModel } from '../../ml/trained-model';
import { registerCandidate } from './candidate-models';
import { setEndpointTraffic as setTraffic } from './serving-fixtures';
import type { TestFactory } from './test-factory';

/** The output schema the register stage writes for a trained model. */
function outputSchemaOf(tm: TrainedModel, labelType: 'number' | 'string'): ModelOutputSchema {
  return tm.task === 'regression' ? { name: 'value', task: 'regression', target: 'y' } : { name: 'probabilities', task: 'classification', classes: tm.classes, labelType };
}

/**
 * Registers `tm` (exported to ONNX as the pipeline does) as the next version of `model`, with the rows a
 * pipeline would have left (dataset version, training run), without training: protocol tests need exact
 * weights, not a learnt model. Returns the model version's id and number.
 */
export async function registerVersion(t: TestFactory, model: string, tm: TrainedModel, opts: { labelType?: 'number' | 'string' } = {}): Promise<{ id: string; version: number }> {
  const registered = await registerCandidate(t, exportOnnx(tm), { model, features: tm.features, outputSchema: outputSchemaOf(tm, opts.labelType ?? 'string') });
  return { id: registered.modelVersionId, version: registered.version };
}

/** Points endpoint `name` at the given versions (creating it), as a deploy or a rollout step would leave it. */
export async function setEndpointTraffic(t: TestFactory, name: string, traffic: { stable: string | null; canary?: string; canaryWeight?: number; shadow?: string }): Promise<void> {
  await setTraffic(t.database.db, { projectId: t.projectId, endpoint: name, ...traffic });
}
