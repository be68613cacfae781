import { expect } from 'vitest';
import type { LabelledRow } from './synthetic-data';
import type { TestFactory } from './test-factory';

/** Distribution B of the churn rows: customers spending twice as much, labelled by the same rule on the new spend. */
export function doubledSpend(rows: LabelledRow[]): LabelledRow[] {
  return rows.map((r) => {
    const spend = Number(r.spend) * 2;
    return { ...r, spend, churned: 0.08 * spend - 0.25 * Number(r.tenure) > 0 ? 'yes' : 'no' };
  });
}

/** Sends the rows to an endpoint in batches and labels every answer with the row's own `churned` through POST /v1/feedback. */
export async function serveLabelled(t: TestFactory, endpoint: string, rows: LabelledRow[], batchSize = 100): Promise<void> {
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    const res = await t.request('POST', `/v1/endpoints/${endpoint}/predict`, { json: { records: batch.map(({ churned: _label, ...features }) => features) } });
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { predictions: { id: string }[] }).predictions.map((p) => p.id);
    const feedback = await t.request('POST', '/v1/feedback', { json: { feedback: ids.map((predictionId, j) => ({ predictionId, label: batch[j]!.churned })) } });
    expect(feedback.status).toBe(200);
  }
}

/** One claim as GET /v1/endpoints/{name}/retrains lists it (the fields the tests read). */
export interface RetrainView {
  workflowId: string;
  status: string;
  episode: string;
  trigger: { kind: string; monitorWorkflowId?: string };
  pipelineWorkflowId: string | null;
  datasetVersionId: string | null;
  modelVersionId: string | null;
  outcome: { pipelineStage?: string; modelVersion?: { version: number; blessed: boolean }; dataset?: { rows: number; feedbackRows: number } } | null;
}

export async function listRetrains(t: TestFactory, endpoint: string): Promise<RetrainView[]> {
  return ((await (await t.request('GET', `/v1/endpoints/${endpoint}/retrains`)).json()) as { retrains: RetrainView[] }).retrains;
}
