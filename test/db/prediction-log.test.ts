import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ArtifactStore } from '../../artifacts/store';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { appendPredictionRows, insertPredictionRows, type PredictionLogRow } from '../../db/queries/prediction-log';
import { bootstrapProject } from '../../db/queries/projects';
import { predictions } from '../../db/schema';
import { newId } from '../../platform/ids';
import { classifierOnnx, registerOnnxVersion, setEndpointTraffic } from '../support/serving-fixtures';

describe('prediction-log rows', () => {
  let database: DatabaseHandle;
  let artifactRoot: string;
  let endpointId: string;
  let versionId: string;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
    artifactRoot = await mkdtemp(path.join(os.tmpdir(), 'ai-factory-log-'));
    const { projectId } = await bootstrapProject(database.db, { projectName: `log-${randomUUID().slice(0, 8)}` });
    versionId = (await registerOnnxVersion(database.db, new ArtifactStore(artifactRoot), { projectId, model: 'm', ...classifierOnnx(0, 2) })).id;
    endpointId = await setEndpointTraffic(database.db, { projectId, endpoint: 'e', stable: versionId });
  });
  afterAll(async () => {
    await database?.close();
    await rm(artifactRoot, { recursive: true, force: true });
  });

  const row = (error: string | null, inputs: Record<string, unknown>): PredictionLogRow => ({
    id: newId('pred'),
    endpointId,
    modelVersionId: versionId,
    route: 'canary',
    requestId: newId('req'),
    inputs,
    outputs: error ? null : { label: 'yes', probability: 0.75, probabilities: { no: 0.25, yes: 0.75 } },
    latencyMs: 1.25,
    error,
  });

  it('stores what it was given, escapes and all, through COPY (PGlite) or INSERT', async () => {
    const rows = [row(null, { f0: 1.5, f1: -2 }), row('model_run_failed: a\ttab, a\nline, a \\ backslash, "quotes", \\N and é', { f0: 0, f1: 1e-7 }), row(null, { 'we\\ird\tkey': 3 })];
    await appendPredictionRows(database, rows);
    await insertPredictionRows(database.db, [row(null, { f0: 9, f1: 9 })]);
    const stored = await database.db.select().from(predictions).where(eq(predictions.endpointId, endpointId));
    expect(stored).toHaveLength(4);
    for (const r of rows) {
      expect(stored.find((s) => s.id === r.id)).toMatchObject({ requestId: r.requestId, route: 'canary', inputs: r.inputs, outputs: r.outputs, latencyMs: 1.25, error: r.error });
    }
  });
});
