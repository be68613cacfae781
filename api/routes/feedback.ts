import { Hono } from 'hono';
import { z } from 'zod';
import { recordFeedback } from '../../db/queries/feedback';
import type { ApiDeps } from '../deps';
import type { ApiEnv } from '../env';
import { parseJsonBody } from '../json-body';
import { requireRole } from '../middleware/api-key-auth';

export const MAX_FEEDBACK_PER_REQUEST = 1000;

const feedbackRequest = z
  .object({
    feedback: z
      .array(z.object({ predictionId: z.string().min(1).max(100), label: z.union([z.string().max(1000), z.number()]) }).strict())
      .min(1, 'send at least one label')
      .max(MAX_FEEDBACK_PER_REQUEST, `send at most ${MAX_FEEDBACK_PER_REQUEST} labels per request`),
  })
  .strict();

/** Ground-truth labels for logged predictions: the live-accuracy gates and the next dataset version read them. */
export function feedbackRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();

  app.post('/', requireRole('operator'), async (c) => {
    const { feedback } = await parseJsonBody(c, feedbackRequest);
    const { projectId, keyId } = c.get('auth');
    const outcome = await recordFeedback(deps.db, { projectId, actor: keyId, items: feedback });
    return c.json({ accepted: outcome.created + outcome.changed + outcome.unchanged, ...outcome });
  });

  return app;
}
