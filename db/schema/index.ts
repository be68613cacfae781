export * from './projects';
export * from './datasets';
export * from './training';
export * from './models';
export * from './endpoints';
export * from './audit';
export * from './idempotency';
export * from './webhooks';
