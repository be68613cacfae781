import { driftWindowQueryFor, readDriftWindow, type DriftWindowQuery } from '../../db/queries/drift-window';
import { findEndpointForMonitoring, readMonitoringConfig, storeDriftReport, versionsServedIn, type ServedVersion } from '../../db/queries/monitoring';
import type { MonitorEndpointInput } from '../../domain/monitoring';
import { buildVersionDriftReport } from '../../ml/drift-report';
import { PROBABILITY_EDGES } from '../../ml/drift-baseline';
import { UserError } from '../../platform/user-error';
import type { ActivityDeps } from '../deps';

export interface ComputeDriftReportsInput extends MonitorEndpointInput {
  /** The monitor run: names the stored reports, so a retried activity stores nothing twice. */
  workflowId: string;
}

export interface ComputedDriftReport {
  id: string;
  modelVersionId: string;
  model: { name: string; version: number };
  drifted: boolean;
  reasons: string[];
  driftedFeatures: string[];
}

export interface ComputeDriftReportsResult {
  endpointId: string;
  reports: ComputedDriftReport[];
}

function parseInstant(value: string, field: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new UserError('invalid_window', `${field} must be an ISO date-time (got ${JSON.stringify(value).slice(0, 60)}).`, 422, { field });
  return at;
}

/** A version trained before baselines existed still gets live metrics: its window read on its output schema alone. */
function queryWithoutBaseline(version: ServedVersion, window: { endpointId: string; versionId: string; from: Date; to: Date }): DriftWindowQuery {
  const schema = version.outputSchema;
  return {
    ...window,
    features: [],
    prediction: schema.name === 'value' ? { task: 'regression', edges: [] } : { task: 'classification', classes: schema.classes, probabilityEdges: PROBABILITY_EDGES },
  };
}

export function createMonitorActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /**
     * Builds and stores the drift report of every version that answered stable or canary traffic of the
     * endpoint in [from, to): aggregates in SQL (bounded memory), statistics in ml/drift-report. Idempotent per
     * (workflow, version): a retry returns the reports stored the first time.
     */
    async computeDriftReports(input: ComputeDriftReportsInput): Promise<ComputeDriftReportsResult> {
      const from = parseInstant(input.from, 'from');
      const to = parseInstant(input.to, 'to');
      if (from.getTime() >= to.getTime()) throw new UserError('invalid_window', `A monitoring window must end after it starts (from ${input.from}, to ${input.to}).`, 422, { field: 'to' });
      const endpoint = await findEndpointForMonitoring(db, input.projectId, input.endpointName);
      const config = await readMonitoringConfig(db, endpoint.id);
      const versions = await versionsServedIn(db, endpoint.id, from, to);
      const reports: ComputedDriftReport[] = [];
      for (const version of versions) {
        const baseline = version.evaluation.baseline ?? null;
        const window = { endpointId: endpoint.id, versionId: version.id, from, to };
        const counts = await readDriftWindow(db, baseline ? driftWindowQueryFor(baseline, window) : queryWithoutBaseline(version, window));
        const report = buildVersionDriftReport({
          modelVersionId: version.id,
          model: version.model,
          window: { from: from.toISOString(), to: to.toISOString() },
          baseline,
          counts,
          thresholds: config.thresholds,
        });
        const saved = await storeDriftReport(db, { endpointId: endpoint.id, workflowId: input.workflowId, from, to, report });
        reports.push({
          id: saved.id,
          modelVersionId: version.id,
          model: version.model,
          drifted: saved.drifted,
          reasons: saved.report.reasons,
          driftedFeatures: saved.report.features.filter((f) => f.drifted).map((f) => f.feature),
        });
      }
      return { endpointId: endpoint.id, reports };
    },
  };
}
