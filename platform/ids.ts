import { randomUUID } from 'node:crypto';

/** A readable, prefixed random id: `dsv_3f2a…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
