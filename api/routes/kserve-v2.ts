import { sql } from 'drizzle-orm';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { codeVersion } from '../../platform/code-version';
import type { Logger } from '../../platform/logger';
import { UserError } from '../../platform/user-error';
import type { EndpointDescription } from '../../serving/predictor';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { inputMetadata, outputMetadata, predictionsToTensors, tensorsToRecords } from '../kserve-v2-tensors';
import { apiKeyAuth, requireRole } from '../middleware/api-key-auth';
import { ROUTING_KEY_HEADER } from '../routing-key';
import { userErrorFromFailure } from '../temporal-errors';
import { MAX_RECORDS_PER_REQUEST } from '../predict-request';

/** Every model here is an ONNX graph run by onnxruntime (the protocol's `<project>_<format>` platform name). */
export const V2_PLATFORM = 'onnx_onnxv1';

/** A readiness probe that waits longer than this on the database or Temporal reports not ready. */
const READY_CHECK_TIMEOUT_MS = 2_000;

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const inferenceRequest = z.object({
  id: z.string().max(256).optional(),
  parameters: parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().min(0)),
        datatype: z.string().min(1),
        parameters: parameters.optional(),
        data: z.array(z.unknown()),
      }),
    )
    .min(1, 'send at least one input tensor'),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
});

/**
 * The KServe V2 Open Inference Protocol (REST) over the factory's endpoints, mounted at /v2: a model is an
 * endpoint of the key's project, its versions are the model versions the endpoint serves. Health routes need
 * no key; model routes need viewer (metadata, ready) or operator (infer). Errors are `{"error": "<message>"}`
 * as the protocol says, with our stable `code` beside it.
 */
export function kserveV2Routes(deps: ApiDeps, opts: { bodyLimit: MiddlewareHandler }) {
  const app = new Hono<ApiEnv>();
  app.onError(v2ErrorHandler(deps.logger));
  const serverVersion = codeVersion();

  app.get('/', (c) => c.json({ name: 'ai-factory', version: serverVersion, extensions: [] }));
  app.get('/health/live', (c) => c.json({ live: true }));
  app.get('/health/ready', async (c) => {
    const problems = await notReadyBecause(deps);
    if (problems.length > 0) return c.json({ ready: false, error: problems.join('; ') }, 503);
    return c.json({ ready: true });
  });

  app.use('/models/*', apiKeyAuth({ db: deps.db }));
  app.use('/models/*', opts.bodyLimit);

  const metadata = async (c: Context<ApiEnv>) => {
    const name = c.req.param('name') ?? '';
    const described = await describeEndpoint(deps, c.get('auth').projectId, name);
    const serving = servingVersions(described);
    const pinned = c.req.param('version');
    const chosen = pinned === undefined ? serving[0] : findVersion(described, pinned);
    if (!chosen) throw pinned === undefined ? notReady(name) : versionNotServed(described, pinned);
    const features = pinned === undefined ? featureUnion(serving) : chosen.inputSchema.features;
    return c.json({
      name,
      versions: pinned === undefined ? serving.map((v) => String(v.version)) : [String(chosen.version)],
      platform: V2_PLATFORM,
      inputs: inputMetadata(features),
      outputs: outputMetadata(chosen.outputSchema),
    });
  };
  app.get('/models/:name', requireRole('viewer'), metadata);
  app.get('/models/:name/versions/:version', requireRole('viewer'), metadata);

  const ready = async (c: Context<ApiEnv>) => {
    const name = c.req.param('name') ?? '';
    const described = await describeEndpoint(deps, c.get('auth').projectId, name);
    const pinned = c.req.param('version');
    const isReady = pinned === undefined ? described.ready : findVersion(described, pinned) !== undefined;
    return c.json({ name, ready: isReady }, isReady ? 200 : 503);
  };
  app.get('/models/:name/ready', requireRole('viewer'), ready);
  app.get('/models/:name/versions/:version/ready', requireRole('viewer'), ready);

  const infer = async (c: Context<ApiEnv>) => {
    const name = c.req.param('name') ?? '';
    const { projectId } = c.get('auth');
    const request = await parseJsonBody(c, inferenceRequest).catch((err: unknown) => {
      // The protocol answers a malformed request with 400.
      throw err instanceof UserError ? new UserError(err.code, err.message, 400, err.details) : err;
    });
    const described = await describeEndpoint(deps, projectId, name);
    const pinned = c.req.param('version');
    // A version named in the URL answers itself, whatever the split (as Triton's versioned infer does); else the router chooses.
    const chosen = pinned === undefined ? undefined : findVersion(described, pinned);
    if (pinned !== undefined && !chosen) throw versionNotServed(described, pinned);
    const serving = chosen ? [chosen] : servingVersions(described);
    if (serving.length === 0) throw notReady(name);

    const records = tensorsToRecords(request.inputs, featureUnion(serving), MAX_RECORDS_PER_REQUEST);
    if (request.outputs) checkRequestedOutputs(request.outputs, serving);
    const requestId = c.get('requestId');
    const answer = await deps.predictor.predict(projectId, name, records, { routingKey: c.req.header(ROUTING_KEY_HEADER), requestId, versionId: chosen?.id });
    const version = described.versions.find((v) => v.id === answer.modelVersion.id) ?? (await deps.predictor.describe(projectId, name))?.versions.find((v) => v.id === answer.modelVersion.id);
    if (!version) throw new Error(`model version ${answer.modelVersion.id} answered but is not among endpoint ${name}'s versions`);

    const outputs = predictionsToTensors(answer.predictions, version.outputSchema);
    return c.json({
      model_name: name,
      model_version: String(answer.modelVersion.version),
      id: request.id ?? requestId,
      parameters: { model: answer.modelVersion.model, model_version_id: answer.modelVersion.id, route: answer.route },
      // Asked-for tensors in the order asked; a split between versions of different tasks may lack some.
      outputs: request.outputs ? request.outputs.flatMap((o) => outputs.filter((t) => t.name === o.name)) : outputs,
    });
  };
  app.post('/models/:name/infer', requireRole('operator'), infer);
  app.post('/models/:name/versions/:version/infer', requireRole('operator'), infer);

  return app;
}

async function describeEndpoint(deps: ApiDeps, projectId: string, name: string): Promise<EndpointDescription> {
  const described = await deps.predictor.describe(projectId, name);
  if (!described) {
    throw new UserError('model_not_found', `There is no model (endpoint) named "${name.slice(0, 80)}" in this project; a pipeline creates it when it deploys a model.`, 404, { field: 'model' });
  }
  return described;
}

/** The versions that answer callers (stable, and a canary taking traffic), stable first; a shadow answers nobody. */
function servingVersions(described: EndpointDescription): EndpointDescription['versions'] {
  return described.versions.filter((v) => v.route !== 'shadow' && v.weight > 0);
}

/** A version named in the URL: its number, among the versions the endpoint serves. */
function findVersion(described: EndpointDescription, version: string): EndpointDescription['versions'][number] | undefined {
  return servingVersions(described).find((v) => String(v.version) === version);
}

/** Features every serving version needs, stable's order first (a canary may add some). */
function featureUnion(versions: EndpointDescription['versions']): string[] {
  return [...new Set(versions.flatMap((v) => v.inputSchema.features))];
}

/** Refuses, before anything runs, an output no serving version produces. */
function checkRequestedOutputs(requested: { name: string }[], serving: EndpointDescription['versions']): void {
  const available = [...new Set(serving.flatMap((v) => outputMetadata(v.outputSchema).map((t) => t.name)))];
  requested.forEach((o, i) => {
    if (!available.includes(o.name)) {
      throw new UserError('unknown_output', `outputs[${i}] asks for "${o.name.slice(0, 80)}"; this model answers ${available.join(', ')}.`, 400, { field: `outputs[${i}].name` });
    }
  });
}

function versionNotServed(described: EndpointDescription, version: string): UserError {
  const serving = servingVersions(described).map((v) => v.version);
  return new UserError('model_version_not_found', `Model "${described.endpoint}" does not serve version "${version.slice(0, 40)}"; it serves ${serving.join(', ') || 'none yet'}.`, 404, {
    field: 'version',
  });
}

function notReady(name: string): UserError {
  return new UserError('endpoint_not_ready', `Model "${name}" has no version deployed yet; run a pipeline that deploys to it.`, 409);
}

/** Why the server cannot take traffic: draining, or the database or Temporal unreachable. Empty when ready. */
async function notReadyBecause(deps: ApiDeps): Promise<string[]> {
  if (deps.draining?.()) return ['the server is shutting down'];
  const checks = await Promise.all([
    withTimeout(deps.db.execute(sql`select 1`), 'the database'),
    withTimeout(deps.temporal.workflowService.getSystemInfo({}), 'Temporal'),
  ]);
  return checks.filter((p): p is string => p !== undefined);
}

async function withTimeout(check: Promise<unknown>, what: string): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${what} did not answer within ${READY_CHECK_TIMEOUT_MS} ms`), READY_CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.then(() => undefined, (err: unknown) => `${what} is unreachable (${err instanceof Error ? err.message.slice(0, 120) : String(err)})`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The protocol's error object: `error` is the message; `code` and the field details are ours. */
function v2ErrorHandler(logger: Logger) {
  return (err: Error, c: Context): Response => {
    const userError = err instanceof UserError ? err : userErrorFromFailure(err);
    if (userError) {
      if (userError.status === 413) c.header('Connection', 'close');
      return c.json({ error: userError.message, code: userError.code, ...userError.details }, userError.status);
    }
    if (err instanceof HTTPException) return c.json({ error: err.message || 'The request could not be handled.', code: 'http_error' }, err.status);
    const requestId = c.get('requestId') as string | undefined;
    logger.error({ err, requestId, method: c.req.method, path: c.req.path }, 'request failed');
    return c.json({ error: `Something went wrong on the server; it has been logged under request id ${requestId ?? 'unknown'}.`, code: 'internal_error', requestId }, 500);
  };
}
