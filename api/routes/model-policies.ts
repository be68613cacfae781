import { Hono, type Context } from 'hono';
import { findEndpointForMonitoring } from '../../db/queries/monitoring';
import { findModel, type ModelRow } from '../../db/queries/models';
import { modelPolicyHistory, readModelPolicy, writeModelPolicy } from '../../db/queries/model-policies';
import { latestTrainingOf } from '../../db/queries/policy-context';
import { UserError } from '../../platform/user-error';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { checkResourceName, parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';
import { modelPolicyRequest, policyView, wholePolicyOf } from '../model-policy-request';

/**
 * A registered model's promotion and rollout policy (mounted under /v1/models): read by any key, replaced by an admin
 * with a reason (a new version, audited); `?endpoint=NAME` reads the policy in force there, or writes its override.
 */
export function modelPolicyRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  const target = async (c: Context<ApiEnv>): Promise<{ model: ModelRow; endpoint: { id: string; name: string } | null }> => {
    const { projectId } = c.get('auth');
    const model = await findModel(deps.db, projectId, checkResourceName('model', c.req.param('name') ?? ''));
    const endpointName = c.req.query('endpoint');
    const endpoint = endpointName === undefined ? null : await findEndpointForMonitoring(deps.db, projectId, checkResourceName('endpoint', endpointName));
    return { model, endpoint };
  };

  /** The policy in force (the endpoint's override, else the model's), with where it came from and its version. */
  app.get('/:name/policy', async (c) => {
    const { model, endpoint } = await target(c);
    const effective = await readModelPolicy(deps.db, model.id, endpoint?.id ?? null);
    return c.json({ model: model.name, endpoint: endpoint?.name ?? null, source: effective.source, version: effective.version, policy: policyView(effective.policy) });
  });

  /** Replaces the model's policy (or the endpoint's override) as a whole; the same policy again makes no new version. */
  app.put('/:name/policy', requireRole('admin'), async (c) => {
    const { model, endpoint } = await target(c);
    const body = await parseJsonBody(c, modelPolicyRequest);
    const training = await latestTrainingOf(deps.db, model.id);
    if (!training) {
      throw new UserError('model_has_no_version', `Model "${model.name}" has no version yet, and a policy is checked against the data its versions train on; set it in POST /v1/pipelines or wait for the first version.`, 409, {
        field: 'model',
      });
    }
    const policy = wholePolicyOf(body, {
      schema: training.schema,
      task: { task: training.task, reason: training.taskReason ?? '' },
      targetStats: training.stats.find((s) => s.name === training.target),
    });
    const { keyId, projectId } = c.get('auth');
    const written = await writeModelPolicy(deps.db, { projectId, modelId: model.id, endpointId: endpoint?.id ?? null, policy, actor: keyId, reason: body.reason });
    return c.json({ model: model.name, endpoint: endpoint?.name ?? null, scope: endpoint ? 'endpoint' : 'model', ...written, policy: policyView(policy) });
  });

  /** Every version of the model's policy (or of the endpoint's override), newest first, with who changed it and why. */
  app.get('/:name/policy/history', async (c) => {
    const { model, endpoint } = await target(c);
    const rows = await modelPolicyHistory(deps.db, model.id, endpoint?.id ?? null);
    return c.json({
      model: model.name,
      endpoint: endpoint?.name ?? null,
      history: rows.map((r) => ({ version: r.version, changedBy: r.changedBy, reason: r.reason, createdAt: r.createdAt.toISOString(), policy: policyView(r.policy) })),
    });
  });

  return app;
}
