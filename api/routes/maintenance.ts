import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { Hono } from 'hono';
import { collectArtifacts } from '../../workflows';
import { DEFAULT_ARTIFACT_GRACE_MS, factorySearchAttributes } from '../../workflows/contracts';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { answerOnce, idempotencyKeyOf, sha256Hex } from '../idempotency';
import { requireInstallationOperator } from '../middleware/installation-operator';
import { temporalUiLink, workflowStatusPath } from '../workflow-links';

export function maintenanceRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  /** Runs the artifact collection now, with the configured grace period, instead of waiting for its schedule. */
  app.post('/artifact-gc', requireInstallationOperator(deps.db), async (c) => {
    const { projectId } = c.get('auth');
    const idempotencyKey = idempotencyKeyOf(c);
    // With a key, the id is derived from it, so a retried request finds the collection it started.
    const workflowId = `artifact-gc-manual-${idempotencyKey === undefined ? randomUUID().slice(0, 8) : sha256Hex(projectId, idempotencyKey).slice(0, 16)}`;
    const request = { key: idempotencyKey, route: 'POST /v1/maintenance/artifact-gc', requestHash: sha256Hex('artifact-gc') };
    return answerOnce(c, deps.db, request, async () => {
      try {
        await deps.temporal.workflow.start(collectArtifacts, {
          taskQueue: deps.taskQueues.cpu,
          workflowId,
          memo: { projectId },
          typedSearchAttributes: factorySearchAttributes({ projectId }),
          args: [{ graceMs: deps.artifactGraceMs ?? DEFAULT_ARTIFACT_GRACE_MS }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        // A closed collection with this id: the retry answers with it rather than collecting again.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { status: 202, body: { workflowId, status: workflowStatusPath(workflowId), ...temporalUiLink(deps, workflowId) } };
    });
  });
  return app;
}
