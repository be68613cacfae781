export * from './task-queues';
export * from './failures';
export * from './types';
export * from './messages';
export * from './failure-cause';
export * from './maintenance';
export * from './search-attributes';
export * from './promotion';
