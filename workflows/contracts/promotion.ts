import type { PromoteInput } from './types';

/** One promotion per alias at a time: the id names the alias, so a second start while one runs is refused. */
export function promotionWorkflowId(projectId: string, modelName: string, alias: PromoteInput['alias']): string {
  return `promote-${modelName}-${alias}-${projectId}`;
}
