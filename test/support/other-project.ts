import { randomUUID } from 'node:crypto';
import { apiKeys, projects } from '../../db/schema';
import { displayPrefix, hashApiKey } from '../../platform/api-keys';
import { newId } from '../../platform/ids';
import type { TestFactory } from './test-factory';

/** A second tenant of the same installation (not the bootstrapped project) and an admin key of it. */
export async function otherProjectAdminKey(t: TestFactory): Promise<string> {
  const projectId = newId('prj');
  await t.database.db.insert(projects).values({ id: projectId, name: `tenant-${projectId}` });
  const key = `afk_tenant_admin_${randomUUID()}`;
  await t.database.db.insert(apiKeys).values({ id: newId('key'), projectId, name: 'tenant admin', owner: 'tenant-admin', role: 'admin', keyHash: hashApiKey(key), keyPrefix: displayPrefix(key) });
  return key;
}
