import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { apiKeys, projects } from '../schema';
import { newId } from '../../platform/ids';
import { displayPrefix, generateApiKey, hashApiKey } from '../../platform/api-keys';

export interface BootstrapResult {
  projectId: string;
  /** Set only when a key was generated now: shown once, never stored in clear. */
  generatedAdminKey: string | undefined;
}

/**
 * First start: creates the default project and an admin key (the configured one, or a generated one), owned by
 * `adminOwner` (default `admin`). Later starts change nothing, except registering a newly configured admin key
 * and setting the configured key's owner.
 */
export async function bootstrapProject(db: Db, opts: { projectName?: string; adminKey?: string; adminOwner?: string }): Promise<BootstrapResult> {
  const name = opts.projectName ?? 'default';
  const owner = opts.adminOwner ?? 'admin';
  await db.insert(projects).values({ id: newId('prj'), name, installation: true }).onConflictDoNothing();
  // Set on every start too: a project bootstrapped before the column existed becomes the installation's.
  const [project] = await db.update(projects).set({ installation: true }).where(eq(projects.name, name)).returning();
  if (!project) throw new Error(`project ${name} could not be created`);

  if (opts.adminKey) {
    await db
      .insert(apiKeys)
      .values({ id: newId('key'), projectId: project.id, name: 'admin (FACTORY_ADMIN_KEY)', owner, role: 'admin', keyHash: hashApiKey(opts.adminKey), keyPrefix: displayPrefix(opts.adminKey) })
      // The configured key belongs to the configured owner, also when it was issued before owners existed.
      .onConflictDoUpdate({ target: apiKeys.keyHash, set: { owner } });
    return { projectId: project.id, generatedAdminKey: undefined };
  }
  const [anyKey] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, project.id), eq(apiKeys.role, 'admin'), isNull(apiKeys.revokedAt)))
    .limit(1);
  if (anyKey) return { projectId: project.id, generatedAdminKey: undefined };
  const key = generateApiKey();
  await db.insert(apiKeys).values({ id: newId('key'), projectId: project.id, name: 'admin (generated at first start)', owner, role: 'admin', keyHash: hashApiKey(key), keyPrefix: displayPrefix(key) });
  return { projectId: project.id, generatedAdminKey: key };
}

/** True for the project the installation bootstrapped, whose admins operate the whole installation. */
export async function isInstallationProject(db: Db, projectId: string): Promise<boolean> {
  const [project] = await db.select({ installation: projects.installation }).from(projects).where(eq(projects.id, projectId));
  return project?.installation === true;
}
