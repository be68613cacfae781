import type { ActivityDeps } from './deps';
import { createIngestActivities } from './ingest';
import { createTrainActivities } from './train';
import { createExportActivities } from './export';
import { createEvaluateActivities } from './evaluate';
import { createInfraValidateActivities } from './infra-validate';
import { createRegistryActivities } from './registry';
import { createDeployActivities } from './deploy';
import { createFailureActivities } from './failures';
import { createMaintenanceActivities } from './maintenance';
import { createWebhookActivities } from './webhooks';
import { createPromotionActivities } from './promotion';
import { createRolloutActivities } from './rollout';
import { createRolloutGateActivities } from './rollout-gates';
import { createMonitorActivities } from './monitor';
import { createRetrainActivities } from './retrain';
import { createRetrainDatasetActivities } from './retrain-dataset';

export type { ActivityDeps } from './deps';

/** Every activity of the factory, with its dependencies injected. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIngestActivities(deps),
    ...createTrainActivities(deps),
    ...createExportActivities(deps),
    ...createEvaluateActivities(deps),
    ...createInfraValidateActivities(deps),
    ...createRegistryActivities(deps),
    ...createDeployActivities(deps),
    ...createFailureActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createWebhookActivities(deps),
    ...createPromotionActivities(deps),
    ...createRolloutActivities(deps),
    ...createRolloutGateActivities(deps),
    ...createMonitorActivities(deps),
    ...createRetrainActivities(deps),
    ...createRetrainDatasetActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** The training activities alone: what a factory-gpu worker registers. */
export function createTrainingActivities(deps: ActivityDeps) {
  const train = createTrainActivities(deps);
  return { fitModel: train.fitModel.bind(train) };
}
