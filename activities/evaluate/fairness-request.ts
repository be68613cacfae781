import { UserError } from '../../platform/user-error';
import type { FairnessRequest } from '../../workflows/contracts';

/** The fairness request with its favourable class resolved; a multi-class or regression run, or an unknown class, is a 422. */
export function checkFairness(request: FairnessRequest, classes: string[] | null): { sensitive: string; favorable: string; privileged: string | null } {
  if (classes === null || classes.length !== 2) {
    throw new UserError(
      'fairness_needs_binary_classification',
      `fairness needs a binary classifier, and this run ${classes === null ? 'is a regression' : `has ${classes.length} classes`}; drop "fairness" or use a two-class target.`,
      422,
      { field: 'fairness' },
    );
  }
  const [, positive = ''] = classes;
  const favorable = request.favorable ?? positive;
  if (!classes.includes(favorable)) {
    throw new UserError('unknown_favorable_class', `fairness.favorable "${favorable}" is not a class of the target; use one of ${classes.join(', ')}.`, 422, { field: 'fairness.favorable' });
  }
  return { sensitive: request.sensitive, favorable, privileged: request.privileged ?? null };
}
