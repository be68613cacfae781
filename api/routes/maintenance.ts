import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { collectArtifacts } from '../../workflows';
import { DEFAULT_ARTIFACT_GRACE_MS, factorySearchAttributes } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { requireRole } from '../middleware/api-key-auth';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';

export function maintenanceRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Runs the artifact collection now, with the configured grace period, instead of waiting for its schedule. */
  app.post('/artifact-gc', requireRole('admin'), async (c) => {
    const { projectId } = c.get('auth');
    const workflowId = `artifact-gc-manual-${randomUUID().slice(0, 8)}`;
    await deps.temporal.workflow.start(collectArtifacts, {
      taskQueue: deps.taskQueues.cpu,
      workflowId,
      memo: { projectId },
      typedSearchAttributes: factorySearchAttributes({ projectId }),
      args: [{ graceMs: deps.artifactGraceMs ?? DEFAULT_ARTIFACT_GRACE_MS }],
    });
    c.header('Location', workflowStatusPath(workflowId));
    return c.json({ workflowId, status: workflowStatusPath(workflowId), ...temporalUiLink(deps, workflowId) }, 202);
  });
  return app;
}
