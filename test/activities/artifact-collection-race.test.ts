import { randomUUID } from 'node:crypto';
import { rename, mkdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectUnreferencedArtifacts } from '../../activities/maintenance/collect-artifacts';
import { datasetVersions } from '../../db/schema';
import { ingestCsv, openRetrainHome, type RetrainHome } from '../support/retrain-fixtures';
import { churnRows, toCsv } from '../support/synthetic-data';

const HOUR = 3_600_000;
const sha256Of = (uri: string) => uri.replace('artifact://sha256/', '');

/** The collector against a writer that strikes between its plan and its delete: no referenced file is lost. */
describe('artifact collection racing writers', () => {
  let home: RetrainHome;
  beforeAll(async () => {
    home = await openRetrainHome('gc-race');
  });
  afterAll(async () => {
    await home?.close();
  });

  const fileOf = (sha256: string) => path.join(home.artifacts.root, 'sha256', sha256.slice(0, 2), sha256);
  const age = async (sha256: string, hours: number) => {
    const then = new Date(Date.now() - hours * HOUR);
    await utimes(fileOf(sha256), then, then);
  };
  const stored = async () => {
    const names = new Set<string>();
    for await (const entry of home.artifacts.list()) names.add(entry.sha256);
    return names;
  };
  const collect = (afterPlan?: () => Promise<void>) => collectUnreferencedArtifacts({ db: home.database.db, artifacts: home.artifacts }, { graceMs: HOUR }, { heartbeat: () => undefined }, { afterPlan });

  it('keeps a file put again, or referenced by a new row, after the plan chose to delete it', async () => {
    const datasetVersionId = await ingestCsv(home, 'churn', toCsv(churnRows(50)));
    const [version] = await home.database.db.select().from(datasetVersions).where(eq(datasetVersions.id, datasetVersionId));
    if (!version) throw new Error('no dataset version');
    const table = sha256Of(version.artifactUri);
    const reput = `put again by a pipeline ${randomUUID()}`;
    const reputSha = (await home.artifacts.put(reput)).sha256;
    const orphan = (await home.artifacts.put(`nobody needs this ${randomUUID()}`)).sha256;
    for (const sha256 of [table, reputSha, orphan]) await age(sha256, 48);
    // The table is unreferenced when the plan is made; the row points at it again before the delete.
    await home.database.db.update(datasetVersions).set({ artifactUri: `artifact://sha256/${'0'.repeat(64)}` }).where(eq(datasetVersions.id, datasetVersionId));

    const result = await collect(async () => {
      await home.artifacts.put(reput);
      await home.database.db.update(datasetVersions).set({ artifactUri: version.artifactUri }).where(eq(datasetVersions.id, datasetVersionId));
    });

    const after = await stored();
    expect(after.has(table)).toBe(true);
    expect(after.has(reputSha)).toBe(true);
    expect(after.has(orphan)).toBe(false);
    expect(result.deleted).toBe(1);
    expect((await home.artifacts.get(version.artifactUri)).length).toBeGreaterThan(0);
    expect((await home.artifacts.get(`artifact://sha256/${reputSha}`)).toString()).toBe(reput);
  });

  it('puts back what a crashed collection left condemned, and judges it again next time', async () => {
    const leftover = (await home.artifacts.put(`condemned when the worker died ${randomUUID()}`)).sha256;
    await mkdir(path.join(home.artifacts.root, 'condemned'), { recursive: true });
    await rename(fileOf(leftover), path.join(home.artifacts.root, 'condemned', `${leftover}.${randomUUID()}`));
    const result = await collect();
    expect((await stored()).has(leftover)).toBe(true);
    expect(result.deleted).toBe(0);
  });
});
