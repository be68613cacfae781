import { performance } from 'node:perf_hooks';
import { and, desc, eq, gte, isNull, lte, sql } from 'drizzle-orm';
import { modelVersions, predictions } from '../../db/schema';
import type { GateReading } from '../../domain/rollout';
import { UserError } from '../../platform/user-error';
import { loadOnnxSession, runOnnxModel } from '../../serving/onnx-session';
import { readPredictions } from '../../serving/read-predictions';
import { recordsToMatrix } from '../../serving/validate-records';
import type { EvaluateRolloutGatesInput, EvaluateRolloutGatesResult, SimulateRolloutInput, SimulationReport } from '../../workflows/contracts';
import type { ActivityDeps } from '../deps';

/**
 * A first version of the rollout gates over the prediction log (error rate and p99 latency of the candidate's
 * rows in the window); the gates helper replaces it with shift and live accuracy, keeping the signature.
 */
export function createRolloutGateActivities(deps: ActivityDeps) {
  return {
    async evaluateRolloutGates(input: EvaluateRolloutGatesInput): Promise<EvaluateRolloutGatesResult> {
      const [window] = await deps.db
        .select({
          samples: sql<number>`count(*)::int`,
          errors: sql<number>`count(${predictions.error})::int`,
          p99: sql<number | null>`percentile_cont(0.99) within group (order by ${predictions.latencyMs})`,
        })
        .from(predictions)
        .where(
          and(
            eq(predictions.endpointId, input.endpointId),
            eq(predictions.modelVersionId, input.candidateVersionId),
            eq(predictions.route, input.route),
            gte(predictions.createdAt, new Date(input.from)),
            lte(predictions.createdAt, new Date(input.to)),
          ),
        );
      const samples = window?.samples ?? 0;
      const enough = samples >= (input.gates.minRequests ?? 1);
      const readings: GateReading[] = [];
      const read = (gate: GateReading['gate'], threshold: number | undefined, value: number | null, passes: (v: number) => boolean): void => {
        if (threshold === undefined) return;
        readings.push({ gate, threshold, value, samples, passed: !enough || value === null || passes(value) });
      };
      read('errorRate', input.gates.errorRate, samples ? (window?.errors ?? 0) / samples : null, (v) => v <= (input.gates.errorRate ?? 1));
      read('p99LatencyMs', input.gates.p99LatencyMs, window?.p99 === null || window?.p99 === undefined ? null : Number(window.p99), (v) => v <= (input.gates.p99LatencyMs ?? Infinity));
      return { readings, breached: readings.find((r) => !r.passed) ?? null };
    },

    /** Replays stable's recent answered requests against the candidate offline: agreement of labels and one-row latency. */
    async simulateRollout(input: SimulateRolloutInput): Promise<SimulationReport> {
      const [candidate] = await deps.db.select().from(modelVersions).where(eq(modelVersions.id, input.candidateVersionId));
      if (!candidate) throw new UserError('model_version_not_found', `Model version ${input.candidateVersionId} does not exist.`, 404);
      const recorded = await deps.db
        .select({ inputs: predictions.inputs, outputs: predictions.outputs })
        .from(predictions)
        .where(and(eq(predictions.endpointId, input.endpointId), eq(predictions.modelVersionId, input.stableVersionId), isNull(predictions.error)))
        .orderBy(desc(predictions.createdAt))
        .limit(input.requirement.requests ?? 200);
      const session = await loadOnnxSession(await deps.artifacts.get(candidate.onnxUri));
      const features = candidate.inputSchema.features;
      let agree = 0;
      let compared = 0;
      const latencies: number[] = [];
      for (const row of recorded) {
        let x: Float32Array;
        try {
          x = recordsToMatrix([row.inputs], features);
        } catch {
          continue;
        }
        const started = performance.now();
        const out = await runOnnxModel(session, x, 1, features.length, candidate.outputSchema.name);
        latencies.push(performance.now() - started);
        const [answer] = readPredictions(candidate.outputSchema, out, 1);
        const stable = row.outputs ?? {};
        compared++;
        if (answer && 'label' in answer ? answer.label === stable.label : answer && 'value' in answer && typeof stable.value === 'number' && Math.abs(answer.value - stable.value) <= 1e-6 * Math.max(1, Math.abs(stable.value))) agree++;
      }
      latencies.sort((a, b) => a - b);
      const p99 = latencies.length ? (latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)] ?? null) : null;
      const agreement = compared ? agree / compared : null;
      const reasons: string[] = [];
      const req = input.requirement;
      if (req.minAgreement !== undefined && (agreement === null || agreement < req.minAgreement)) {
        reasons.push(agreement === null ? 'no recorded requests to replay' : `agreement ${agreement.toFixed(3)} < ${req.minAgreement}`);
      }
      if (req.maxP99LatencyMs !== undefined && p99 !== null && p99 > req.maxP99LatencyMs) reasons.push(`p99 latency ${p99.toFixed(2)} ms > ${req.maxP99LatencyMs} ms`);
      return { passed: reasons.length === 0, requests: compared, agreement, shiftPsi: null, p99LatencyMs: p99, reasons };
    },
  };
}
