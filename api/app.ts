import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { UserError } from '../platform/user-error';
import type { ApiDeps } from './deps';
import type { ApiEnv } from './env';
import { errorBody, errorHandler } from './middleware/errors';
import { ApiKeyCache, apiKeyAuth } from './middleware/api-key-auth';
import { apiKeyRoutes } from './routes/api-keys';
import { datasetRoutes } from './routes/datasets';
import { endpointRoutes } from './routes/endpoints';
import { pipelineRoutes } from './routes/pipelines';
import { workflowRoutes } from './routes/workflows';
import { maintenanceRoutes } from './routes/maintenance';
import { modelRoutes } from './routes/models';
import { modelPolicyRoutes } from './routes/model-policies';
import { webhookRoutes } from './routes/webhooks';
import { promotionRoutes } from './routes/promotions';
import { approvalRoutes } from './routes/approvals';
import { feedbackRoutes } from './routes/feedback';
import { predictionRoutes } from './routes/predictions';
import { kserveV2Routes } from './routes/kserve-v2';
import { metricsRoutes } from './routes/metrics';
import { monitoringRoutes } from './routes/monitoring';
import { scheduleRoutes } from './routes/schedules';
import { retrainRoutes } from './routes/retrains';

/** JSON bodies (pipeline specs, prediction batches) stay small; CSV uploads have their own streaming limit. */
export const MAX_JSON_BODY_BYTES = 2 * 1024 * 1024;

export function createApp(appDeps: ApiDeps): Hono<ApiEnv> {
  const deps: ApiDeps = { ...appDeps, apiKeyCache: appDeps.apiKeyCache ?? new ApiKeyCache(appDeps.apiKeyCacheTtlMs ?? 5_000) };
  const app = new Hono<ApiEnv>();
  app.use(requestId());
  app.onError(errorHandler(deps.logger));
  app.notFound((c) => c.json(errorBody(new UserError('route_not_found', `There is no route ${c.req.method} ${c.req.path}.`, 404)), 404));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/metrics', metricsRoutes(deps));

  app.use('/v1/*', apiKeyAuth({ db: deps.db, cache: deps.apiKeyCache }));
  const tooLarge = (): never => {
    throw new UserError('payload_too_large', `The request body is larger than ${MAX_JSON_BODY_BYTES} bytes; send fewer records per request.`, 413, {
      limitBytes: MAX_JSON_BODY_BYTES,
    });
  };
  const streamingLimit = bodyLimit({ maxSize: MAX_JSON_BODY_BYTES, onError: tooLarge });
  // A declared Content-Length is checked without touching the body: hono's bodyLimit reads c.req.raw.body first, which
  // makes @hono/node-server build a full undici Request and web stream (profiled at ~15 % of a predict's CPU).
  const jsonLimit: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamingLimit(c, next);
    if (Number(length) > MAX_JSON_BODY_BYTES) tooLarge();
    await next();
  };
  app.use('/v1/pipelines/*', jsonLimit);
  app.use('/v1/endpoints/*', jsonLimit);
  app.use('/v1/api-keys/*', jsonLimit);
  app.use('/v1/webhooks/*', jsonLimit);
  app.use('/v1/models/*', jsonLimit);
  app.use('/v1/workflows/*', jsonLimit);
  app.use('/v1/feedback', jsonLimit);
  app.use('/v1/schedules/*', jsonLimit);

  app.route('/v1/datasets', datasetRoutes(deps));
  app.route('/v1/pipelines', pipelineRoutes(deps));
  app.route('/v1/workflows', approvalRoutes(deps));
  app.route('/v1/workflows', workflowRoutes(deps));
  app.route('/v1/models', promotionRoutes(deps));
  app.route('/v1/endpoints', endpointRoutes(deps));
  app.route('/v1/endpoints', monitoringRoutes(deps));
  app.route('/v1/endpoints', retrainRoutes(deps));
  app.route('/v1/api-keys', apiKeyRoutes(deps));
  app.route('/v1/maintenance', maintenanceRoutes(deps));
  app.route('/v1/models', modelRoutes(deps));
  app.route('/v1/models', modelPolicyRoutes(deps));
  app.route('/v1/webhooks', webhookRoutes(deps));
  app.route('/v1/feedback', feedbackRoutes(deps));
  app.route('/v1/predictions', predictionRoutes(deps));
  app.route('/v1/schedules', scheduleRoutes(deps));
  // The Open Inference Protocol has its own paths and error shape; it authenticates its model routes itself.
  app.route('/v2', kserveV2Routes(deps, { bodyLimit: jsonLimit }));
  return app;
}
