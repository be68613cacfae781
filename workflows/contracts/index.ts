export * from './task-queues';
export * from './failures';
export * from './types';
export * from './messages';
export * from './search-attributes';
