import { Context } from '@temporalio/activity';
import { exportOnnx } from '../../ml/onnx-export';
import type { TrainedModel } from '../../ml/trained-model';
import type { ExportInput, ExportResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

export function createExportActivities(deps: ActivityDeps) {
  return {
    /** Deterministic: the same trained model always gives the same ONNX bytes and so the same artifact. */
    async exportOnnxModel(input: ExportInput): Promise<ExportResult> {
      // A heartbeat per step: each is quick, but a wide model's weights take a while to read and write.
      const ctx = Context.current();
      ctx.heartbeat({ step: 'read' });
      const trained = await deps.artifacts.getJson<TrainedModel>(input.modelUri);
      ctx.heartbeat({ step: 'build' });
      const onnx = exportOnnx(trained);
      ctx.heartbeat({ step: 'store', bytes: onnx.byteLength });
      const stored = await deps.artifacts.put(onnx);
      return { onnxUri: stored.uri, onnxSha256: stored.sha256 };
    },
  };
}
