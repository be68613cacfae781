import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../db/client';
import { isInstallationProject } from '../../db/queries/projects';
import { UserError } from '../../platform/user-error';
import type { ApiEnv } from '../env';

/**
 * Installation-wide actions (collecting every project's artifacts) belong to the installation's operators:
 * admin keys of the project the installation bootstrapped, never another project's admin.
 */
export function requireInstallationOperator(db: Db): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const auth = c.get('auth');
    if (auth.role !== 'admin' || !(await isInstallationProject(db, auth.projectId))) {
      throw new UserError(
        'installation_operator_only',
        "This action affects every project of the installation: it needs an admin key of the installation's own project (the one `npm start` or the migrate job bootstrapped).",
        403,
      );
    }
    await next();
  };
}
