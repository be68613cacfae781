import type { ArtifactStore } from '../../artifacts/store';
import type { Db } from '../../db/client';
import { notifyEndpointChanged } from '../../db/queries/endpoints';
import { endpoints } from '../../db/schema';
import type { ModelOutputSchema } from '../../db/schema/models';
import { exportOnnx } from '../../ml/onnx-export';
import { newId } from '../../platform/ids';
import { BINARY_OUTPUT, insertModelVersion } from './candidate-models';
import { goodClassifier } from './onnx-graphs';

export { BINARY_OUTPUT };

/** A binary classifier on `width` features f0..f(width-1); `bias` makes versions distinguishable by their answers. */
export function classifierOnnx(bias: number, width: number): { onnx: Uint8Array; features: string[] } {
  const model = goodClassifier(bias, width);
  return { onnx: exportOnnx(model), features: model.features };
}

/**
 * Registers a model version straight from ONNX bytes, with the dataset and training run rows its foreign keys need,
 * as the registry would after a pipeline: what serving tests need without training a model.
 */
export async function registerOnnxVersion(
  db: Db,
  artifacts: ArtifactStore,
  input: { projectId: string; model: string; onnx: Uint8Array; features: string[]; outputSchema?: ModelOutputSchema },
): Promise<{ id: string; model: string; version: number }> {
  const stored = await artifacts.put(input.onnx);
  const registered = await insertModelVersion(db, { ...input, outputSchema: input.outputSchema ?? BINARY_OUTPUT, onnxUri: stored.uri, onnxSha256: stored.sha256 });
  return { id: registered.modelVersionId, model: registered.model, version: registered.version };
}

/** Sets an endpoint's traffic and notifies the data plane in one transaction, as a deploy or the rollout controller does. */
export async function setEndpointTraffic(
  db: Db,
  input: { projectId: string; endpoint: string; stable: string | null; canary?: string | null; canaryWeight?: number; shadow?: string | null },
): Promise<string> {
  return db.transaction(async (tx) => {
    const traffic = { stableVersionId: input.stable, canaryVersionId: input.canary ?? null, canaryWeight: input.canaryWeight ?? 0, shadowVersionId: input.shadow ?? null, updatedAt: new Date() };
    const [row] = await tx
      .insert(endpoints)
      .values({ id: newId('ep'), projectId: input.projectId, name: input.endpoint, status: 'live', ...traffic })
      .onConflictDoUpdate({ target: [endpoints.projectId, endpoints.name], set: traffic })
      .returning({ id: endpoints.id });
    if (!row) throw new Error(`endpoint ${input.endpoint} was not written`);
    await notifyEndpointChanged(tx, row.id);
    return row.id;
  });
}
