import { z } from 'zod';
import type { ColumnSchema, ColumnStats } from '../domain/dataset';
import type { TaskChoice } from '../domain/model';
import { validateThresholds } from '../ml/thresholds';
import { parseDuration } from '../platform/duration';
import { UserError } from '../platform/user-error';
import type { FairnessRequest, PromotionPolicy } from '../workflows/contracts';

/** The pipeline body's evaluation and promotion fields. */
export const evaluationRequestFields = {
  slices: z.array(z.string().min(1)).max(20).optional(),
  fairness: z.object({ sensitive: z.string().min(1), favorable: z.string().min(1).optional(), privileged: z.string().min(1).optional() }).strict().optional(),
  promotion: z
    .object({
      thresholds: z
        .array(
          z
            .object({ metric: z.string().min(1), min: z.number().optional(), max: z.number().optional(), maxDrop: z.number().optional(), maxRise: z.number().optional() })
            .strict(),
        )
        .max(50)
        .default([]),
      requireApproval: z.boolean().default(false),
      approvalTimeout: z.string().default('24h'),
      latencyBudgetMs: z.number().positive().max(60_000).optional(),
    })
    .strict()
    .optional(),
};

type Body = z.infer<z.ZodObject<typeof evaluationRequestFields>>;

/** Checks slices, fairness and promotion against the dataset version and the task before anything runs. */
export function checkEvaluationRequest(
  schema: ColumnSchema[],
  task: TaskChoice,
  body: Body,
  targetStats?: ColumnStats,
): { slices?: string[]; fairness?: FairnessRequest; promotion?: PromotionPolicy } {
  const slices = body.slices?.map((column, i) => stringColumn(schema, column, `slices[${i}]`, 'slice_column'));
  let fairness: FairnessRequest | undefined;
  if (body.fairness) {
    if (task.task !== 'classification') {
      throw new UserError('fairness_needs_classification', `fairness applies to binary classification, and this pipeline trains ${task.task}; drop "fairness" or classify.`, 422, {
        field: 'fairness',
      });
    }
    stringColumn(schema, body.fairness.sensitive, 'fairness.sensitive', 'sensitive_column');
    checkBinaryTarget(body.fairness.favorable, targetStats);
    fairness = { ...body.fairness };
  }
  let promotion: PromotionPolicy | undefined;
  if (body.promotion) {
    promotion = {
      thresholds: validateThresholds(body.promotion.thresholds, task.task),
      requireApproval: body.promotion.requireApproval,
      approvalTimeoutMs: parseDuration(body.promotion.approvalTimeout, 'promotion.approvalTimeout'),
      ...(body.promotion.latencyBudgetMs !== undefined && { latencyBudgetMs: body.promotion.latencyBudgetMs }),
    };
  }
  return { ...(slices && { slices: [...new Set(slices)] }), ...(fairness && { fairness }), ...(promotion && { promotion }) };
}

/** A categorical (string) column of the dataset version; `code` prefixes unknown_ / not_categorical codes. */
function stringColumn(schema: ColumnSchema[], column: string, field: string, code: string): string {
  const found = schema.find((c) => c.name === column);
  if (!found) {
    throw new UserError(`unknown_${code}`, `${field} names "${column.slice(0, 80)}", which is not a column of this dataset version; use one of its string columns.`, 422, { field, column });
  }
  if (found.type !== 'string') {
    throw new UserError(`${code}_not_categorical`, `${field} names the numeric column "${column}"; slices and groups need a string (categorical) column.`, 422, { field, column });
  }
  return column;
}

/** What the target's stored statistics already tell: more than two classes, or a favourable class the target never holds (the evaluate stage checks again). */
function checkBinaryTarget(favorable: string | undefined, stats: ColumnStats | undefined): void {
  if (!stats || stats.distinct === undefined || stats.distinctCapped) return;
  if (stats.distinct > 2) {
    throw new UserError('fairness_needs_binary_classification', `fairness needs a binary classifier, and the target has ${stats.distinct} classes; drop "fairness" or use a two-class target.`, 422, {
      field: 'fairness',
    });
  }
  const values = stats.type === 'string' ? stats.top.map((t) => t.value) : [];
  if (favorable !== undefined && values.length === stats.distinct && !values.includes(favorable)) {
    throw new UserError('unknown_favorable_class', `fairness.favorable "${favorable.slice(0, 80)}" is not a class of the target; use one of ${values.join(', ')}.`, 422, {
      field: 'fairness.favorable',
    });
  }
}
