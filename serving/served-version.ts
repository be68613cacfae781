import type { TrafficVersionRow } from '../db/queries/endpoint-traffic';

/** A model version as the data plane needs it: what to load, what it reads, what it answers (the routing table's row). */
export type ServedVersion = TrafficVersionRow;

/** `<model>:<version>`, the `version` label of serving metrics. */
export function versionLabel(version: Pick<ServedVersion, 'model' | 'version'>): string {
  return `${version.model}:${version.version}`;
}
