import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedModel } from '../../ml/trained-model';
import type { ExportResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

export function createExportActivities(deps: ActivityDeps) {
  return {
    /** Deterministic: the same trained model always gives the same ONNX bytes and so the same artifact. */
    async exportOnnxModel(input: { trainingRunId: string; modelUri: string }): Promise<ExportResult> {
      const trained = await deps.artifacts.getJson<TrainedModel>(input.modelUri);
      const stored = await deps.artifacts.put(exportOnnx(trained));
      return { onnxUri: stored.uri, onnxSha256: stored.sha256 };
    },
  };
}
