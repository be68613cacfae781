import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { freePort } from '../../platform/temporal-dev-server';
import { spawnTsx, type TsxProcess } from './child-process';
import { churnRows, toCsv } from './synthetic-data';
import { freshTestDatabase } from './test-database';
import type { WorkflowStatusBody } from './test-factory';

const ADMIN_KEY = 'afk_crash_test_admin_key_0123456789';
const PIPELINES = ['crash-a', 'crash-b'];

/**
 * A killed factory: `npm start` (API, workers and the embedded Temporal dev server, one process group) is
 * SIGKILLed mid-pipeline, started again on the same FACTORY_HOME, and every pipeline in flight must complete.
 * Returns the figures it measured, as a line for the test to print.
 */
export async function crashAndRestartFactory(dbEnv: { DATABASE_URL: string }): Promise<string> {
  const running: TsxProcess[] = [];
  const home = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-crash-'));
  const startFactoryProcess = async (env: NodeJS.ProcessEnv): Promise<TsxProcess> => {
    const factory = spawnTsx('main.ts', env, { detached: true });
    running.push(factory);
    await factory.waitForOutput(/AI Factory is running/, 90_000);
    return factory;
  };
  try {
    const port = await freePort();
    const env = {
      ...dbEnv,
      FACTORY_HOME: home,
      FACTORY_ADMIN_KEY: ADMIN_KEY,
      PORT: String(port),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
      FACTORY_HEARTBEAT_TIMEOUT_SECONDS: '3',
      LOG_LEVEL: 'info',
    };
    const api = apiClient(`http://127.0.0.1:${port}`);

    const t0 = Date.now();
    const first = await startFactoryProcess(env);
    const firstStartMs = Date.now() - t0;
    expect((await api('POST', '/v1/datasets/churn/versions?wait=true', toCsv(churnRows(800)), 'text/csv')).status).toBe(201);
    const workflowIds: string[] = [];
    for (const endpoint of PIPELINES) {
      const res = await api('POST', '/v1/pipelines', JSON.stringify({ dataset: 'churn', target: 'churned', model: { type: 'mlp', hiddenUnits: [16], epochs: 20, batchSize: 8 }, endpoint }));
      expect(res.status).toBe(202);
      workflowIds.push(((await res.json()) as { workflowId: string }).workflowId);
    }
    await waitForStatus(api, workflowIds[0] as string, (body) => (body.progress?.training?.epoch ?? 0) >= 2);

    killGroup(first);
    const killedAt = Date.now();
    await first.exited();
    const restarted = await startFactoryProcess(env);
    const restartMs = Date.now() - killedAt;

    for (const workflowId of workflowIds) {
      const final = await waitForStatus(api, workflowId, (body) => body.status !== 'RUNNING');
      expect(final.status, JSON.stringify(final)).toBe('COMPLETED');
      // One model version per pipeline: the retries found what their first attempts wrote.
      expect((final.result?.modelVersion as { version: number }).version).toBe(1);
    }
    for (const endpoint of PIPELINES) {
      const res = await api('POST', `/v1/endpoints/${endpoint}/predict`, JSON.stringify({ records: [{ tenure: 2, spend: 180, noise: 0 }] }));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
    }

    const figures =
      `[crash] factory SIGKILL (${dbEnv.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}): first start ${firstStartMs} ms; SIGKILL → factory running again ${restartMs} ms; ` +
      `→ ${PIPELINES.length} pipelines completed ${Date.now() - killedAt} ms (heartbeat timeout 3 s)`;
    restarted.child.kill('SIGTERM');
    await restarted.exited();
    expect(restarted.child.exitCode, restarted.output()).toBe(0);
    return figures;
  } finally {
    for (const p of running) killGroup(p);
    await Promise.all(running.map((p) => p.exited()));
    await rm(home, { recursive: true, force: true });
  }
}

/** SIGKILL to the whole process group: tsx, node and the Temporal dev server die at the same instant. */
function killGroup(p: TsxProcess): void {
  try {
    if (p.child.pid) process.kill(-p.child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function apiClient(base: string) {
  return (method: string, urlPath: string, body?: string, contentType = 'application/json'): Promise<Response> =>
    fetch(`${base}${urlPath}`, { method, body, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined && { 'content-type': contentType }) } });
}

async function waitForStatus(api: ReturnType<typeof apiClient>, workflowId: string, done: (body: WorkflowStatusBody) => boolean): Promise<WorkflowStatusBody> {
  const deadline = Date.now() + 90_000;
  let body: WorkflowStatusBody | undefined;
  while (Date.now() < deadline) {
    const res = await api('GET', `/v1/workflows/${encodeURIComponent(workflowId)}`);
    body = (await res.json()) as WorkflowStatusBody;
    if (res.ok && done(body)) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`workflow ${workflowId} did not get there: ${JSON.stringify(body)}`);
}

/** A database of its own next to the suite's (the factory process migrates it on start); never the one DATABASE_URL names. */
export function freshDatabase(suiteUrl: string, name: string): Promise<string> {
  return freshTestDatabase(suiteUrl, name);
}
