import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { apiKeys } from '../../db/schema';
import { hashApiKey } from '../../platform/api-keys';
import { bootstrapProject } from '../../db/queries/projects';

describe('bootstrapProject', () => {
  let database: DatabaseHandle;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    database = await openDatabase(url ? { url } : { inMemory: true });
    if (!url) await database.migrate();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('generates an admin key once and stores only its hash', async () => {
    const projectName = `boot-${randomUUID().slice(0, 8)}`;
    const first = await bootstrapProject(database.db, { projectName });
    expect(first.generatedAdminKey).toMatch(/^afk_[\w-]{43}$/);
    const second = await bootstrapProject(database.db, { projectName });
    expect(second).toEqual({ projectId: first.projectId, generatedAdminKey: undefined });

    const keys = await database.db.select().from(apiKeys).where(eq(apiKeys.projectId, first.projectId));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ role: 'admin', keyHash: hashApiKey(first.generatedAdminKey ?? '') });
    expect(JSON.stringify(keys)).not.toContain(first.generatedAdminKey);
  });

  it('registers a configured admin key instead of generating one', async () => {
    const projectName = `boot-${randomUUID().slice(0, 8)}`;
    const adminKey = `configured-${randomUUID()}`;
    const result = await bootstrapProject(database.db, { projectName, adminKey });
    expect(result.generatedAdminKey).toBeUndefined();
    await bootstrapProject(database.db, { projectName, adminKey });
    const keys = await database.db.select().from(apiKeys).where(eq(apiKeys.keyHash, hashApiKey(adminKey)));
    expect(keys).toHaveLength(1);
  });
});
