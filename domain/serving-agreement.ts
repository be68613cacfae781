import type { TrafficRoute } from './rollout';

/** The version each route should answer with after a traffic change (null: the route is empty). */
export type ExpectedRoutes = Record<TrafficRoute, string | null>;

/** One route of one serving process as it reported it. */
export interface ReportedRoute {
  instanceId: string;
  host: string;
  pid: number;
  route: TrafficRoute;
  versionId: string | null;
  wantedVersionId: string | null;
  loadError: string | null;
}

/** A server that could not load a version a step needs. */
export interface ServingLoadFailure {
  instanceId: string;
  host: string;
  pid: number;
  route: TrafficRoute;
  versionId: string;
  error: string;
}

/** Whether the live servers that hold an endpoint serve what it asks for. */
export interface ServingAgreement {
  /** Live servers holding the endpoint; 0 means nobody serves it, so nobody can disagree. */
  instances: number;
  agreed: boolean;
  loadFailure: ServingLoadFailure | null;
  /** Routes of servers that serve something else than asked (still reloading, or stuck). */
  disagreeing: { instanceId: string; host: string; pid: number; route: TrafficRoute; serves: string | null; expected: string | null }[];
}

export interface AwaitServingAgreementInput {
  projectId: string;
  endpointId: string;
  expected: ExpectedRoutes;
  /** How long to wait for every live server to serve `expected`. */
  timeoutMs: number;
}

const ROUTES: readonly TrafficRoute[] = ['stable', 'canary', 'shadow'];

/** Judges the reports of live servers against what the endpoint asks for; a failed load of an expected version wins over everything. */
export function judgeServing(rows: readonly ReportedRoute[], expected: ExpectedRoutes): ServingAgreement {
  const instances = new Set(rows.map((r) => r.instanceId));
  const failed = rows.find((r) => r.loadError !== null && r.wantedVersionId !== null && r.wantedVersionId === expected[r.route]);
  const loadFailure = failed
    ? { instanceId: failed.instanceId, host: failed.host, pid: failed.pid, route: failed.route, versionId: failed.wantedVersionId as string, error: failed.loadError as string }
    : null;
  const disagreeing: ServingAgreement['disagreeing'] = [];
  for (const id of instances) {
    const mine = rows.filter((r) => r.instanceId === id);
    for (const route of ROUTES) {
      const row = mine.find((r) => r.route === route);
      const serves = row?.versionId ?? null;
      if (serves !== expected[route] || (row?.loadError ?? null) !== null) {
        const who = mine[0] as ReportedRoute;
        disagreeing.push({ instanceId: id, host: who.host, pid: who.pid, route, serves, expected: expected[route] });
      }
    }
  }
  return { instances: instances.size, agreed: loadFailure === null && disagreeing.length === 0, loadFailure, disagreeing };
}
