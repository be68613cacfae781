import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { selectRows } from '../../data/design-matrix';
import { modelVersions } from '../../db/schema';
import type { InfraValidationRecord } from '../../domain/infra-validation';
import { InfraProbeFailure, probeModelInChildProcess } from '../../serving/infra-probe';
import { FailureType, type InfraValidateInput, type InfraValidationResult } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';
import { throttledHeartbeat } from '../heartbeat';
import { loadTrainingData } from '../train/load-training-data';

/** p99 of one-row calls a candidate must stay within when the policy sets no budget. */
export const DEFAULT_LATENCY_BUDGET_MS = 50;
/** Held-out rows sent to the serving-runtime process. */
const SAMPLE_ROWS = 32;

export function createInfraValidateActivities(deps: ActivityDeps) {
  return {
    /**
     * Loads the candidate in a separate serving-runtime process and queries it with held-out rows: a model
     * that crashes, hangs, gives malformed or non-finite outputs, or is too slow fails here (non-retryable), not in serving.
     */
    async validateInfrastructure(input: InfraValidateInput): Promise<InfraValidationResult> {
      const beat = throttledHeartbeat(Context.current());
      beat({ stage: 'load' }, true);
      const { run, matrix, split } = await loadTrainingData(deps, input.trainingRunId);
      const width = run.features.length;
      const sample = split.test.subarray(0, Math.min(SAMPLE_ROWS, split.test.length));
      const regression = run.task === 'regression';
      let result: InfraValidationResult;
      try {
        result = await probeModelInChildProcess({
          onnx: await deps.artifacts.get(input.onnxUri),
          x: selectRows(matrix.x, width, sample),
          n: sample.length,
          width,
          outputName: regression ? 'value' : 'probabilities',
          outputWidth: regression ? 1 : (run.classes?.length ?? 0),
          probabilities: !regression,
          latencyBudgetMs: input.latencyBudgetMs ?? DEFAULT_LATENCY_BUDGET_MS,
          progress: () => beat({ stage: 'probe' }),
        });
      } catch (err) {
        if (!(err instanceof InfraProbeFailure)) throw err;
        await recordInfraValidation(deps, input, { passed: false, reason: err.reason, message: err.message, at: new Date().toISOString() });
        throw ApplicationFailure.create({ type: FailureType.InfraValidationFailed, message: err.message, nonRetryable: true, details: [{ reason: err.reason }] });
      }
      await recordInfraValidation(deps, input, { passed: true, ...result, at: new Date().toISOString() });
      return result;
    },
  };
}

/** The verdict on the version registered from this run, so a rollout or alias move can refuse a version that failed or never ran. */
async function recordInfraValidation(deps: ActivityDeps, input: InfraValidateInput, record: InfraValidationRecord): Promise<void> {
  // Keyed by run and artifact: probing other bytes for the same run says nothing about the registered version.
  await deps.db
    .update(modelVersions)
    .set({ infraValidation: record })
    .where(and(eq(modelVersions.trainingRunId, input.trainingRunId), eq(modelVersions.onnxUri, input.onnxUri)));
}
