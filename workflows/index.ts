// The workflow bundle's entry point: every workflow the factory runs.
export { ingestDataset } from './ingest';
export { trainModel } from './train';
export { exportModel } from './export';
export { evaluateModel } from './evaluate';
export { registerModel } from './register';
export { deployModel } from './deploy';
export { factoryPipeline } from './pipeline';
export { infraValidateModel } from './infra-validate';
export { collectArtifacts } from './collect-artifacts';
export { deliverRegistryEvent } from './deliver-registry-event';
export { promoteModel } from './promote';
export { endpointController } from './endpoint-controller';
export { monitorEndpoint } from './monitor';
export { scheduledMonitor } from './scheduled-monitor';
export { retrainEndpoint } from './retrain';
