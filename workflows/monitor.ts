import { patched, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MonitorEndpointInput, MonitorEndpointResult } from '../domain/monitoring';
import type { RetrainRequestResult } from '../domain/retrain';
import { databaseActivityOptions, monitorActivityOptions } from './activity-options';
import { driftEventId } from './contracts';
import { publishRegistryEvent } from './registry-events';

const { computeDriftReports } = proxyActivities<Activities>(monitorActivityOptions);
const { requestRetrain } = proxyActivities<Activities>(databaseActivityOptions);

/** Guards retraining on drift, so monitor runs recorded before it replay. */
const RETRAIN_ON_DRIFT = 'retrain-on-drift';

/**
 * Monitors an endpoint over one window: stores a drift report per version that served in it, and for each
 * drifted one publishes `endpoint.drift_detected` to the project's webhooks (signed, retried by activities,
 * once per report). The id names the endpoint and window, so the same window is never reported twice.
 */
export async function monitorEndpoint(input: MonitorEndpointInput): Promise<MonitorEndpointResult> {
  const { workflowId } = workflowInfo();
  setCurrentDetails(`computing drift of ${input.endpointName} over [${input.from}, ${input.to})`);
  const computed = await computeDriftReports({ ...input, workflowId });
  const alerts: string[] = [];
  for (const report of computed.reports) {
    if (!report.drifted) continue;
    const id = driftEventId(report.id);
    await publishRegistryEvent({
      id,
      type: 'endpoint.drift_detected',
      projectId: input.projectId,
      occurredAt: new Date().toISOString(),
      model: { name: report.model.name, version: report.model.version, versionId: report.modelVersionId },
      data: {
        endpoint: input.endpointName,
        window: { from: input.from, to: input.to },
        reportId: report.id,
        driftedFeatures: report.driftedFeatures,
        reasons: report.reasons,
        monitorWorkflowId: workflowId,
      },
    });
    alerts.push(id);
  }
  let retrains: RetrainRequestResult[] | undefined;
  if (patched(RETRAIN_ON_DRIFT)) {
    // Each drifted report asks; the claim in the database lets one alarm per drift episode start a retrain.
    retrains = [];
    for (const report of computed.reports) {
      if (!report.drifted) continue;
      retrains.push(
        await requestRetrain({
          projectId: input.projectId,
          endpointName: input.endpointName,
          monitorWorkflowId: workflowId,
          window: { from: input.from, to: input.to },
          report: { id: report.id, modelVersionId: report.modelVersionId, reasons: report.reasons },
        }),
      );
    }
  }
  const drifted = computed.reports.some((r) => r.drifted);
  const retrainNote = retrains?.map((r) => ` | retrain: ${r.outcome}${r.workflowId ? ` ${r.workflowId}` : ''}`).join('') ?? '';
  setCurrentDetails(
    computed.reports.length === 0
      ? `no traffic on ${input.endpointName} in the window`
      : `${drifted ? 'drift detected' : 'no drift'}: ${computed.reports.map((r) => `v${r.model.version} ${r.drifted ? r.reasons.join('; ') : 'ok'}`).join(' | ')}${retrainNote}`,
  );
  return {
    endpointId: computed.endpointId,
    window: { from: input.from, to: input.to },
    reports: computed.reports.map((r) => ({ id: r.id, modelVersionId: r.modelVersionId, drifted: r.drifted, reasons: r.reasons })),
    drifted,
    alerts,
    ...(retrains && { retrains }),
  };
}
