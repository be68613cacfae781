import os from 'node:os';
import type { DatabaseHandle, Db } from '../db/client';
import { forgetServedRoutes, heartbeatServedRoutes, reportServedRoutes, type ServedRoute, type ServingInstance } from '../db/queries/served-routes';
import { newId } from '../platform/ids';
import { ENDPOINT_CHANGED_CHANNEL } from '../db/queries/endpoints';
import { listEndpointChanges, readEndpointTraffic, type EndpointTrafficRow } from '../db/queries/endpoint-traffic';
import type { Logger } from '../platform/logger';
import type { ServingMetrics } from './metrics';
import { versionLabel, type ServedVersion } from './served-version';
import type { TrafficRoute } from '../domain/rollout';
import type { SessionCache } from './session-cache';

/** Where an endpoint's traffic goes, as the data plane holds it in memory. */
export interface EndpointTraffic {
  endpointId: string;
  projectId: string;
  projectName: string;
  name: string;
  stable: ServedVersion | null;
  canary: { version: ServedVersion; weight: number } | null;
  shadow: ServedVersion | null;
  /** 0-based step of the running (or paused) rollout; -1 when none runs. */
  rolloutStep: number;
}

interface Entry {
  traffic: EndpointTraffic;
  /** endpoints.updated_at as loaded; -1 when a version failed to load, so the next poll tries again. */
  updatedAt: number;
}

export interface RoutingTableOptions {
  db: Db;
  sessions: SessionCache;
  logger: Logger;
  metrics?: ServingMetrics;
  /** How often endpoints.updated_at is compared with what is held (the safety net under notifications). */
  pollMs: number;
  /** LISTEN for ENDPOINT_CHANGED_CHANNEL; without it changes arrive by polling only. */
  listen?: DatabaseHandle['listen'];
  /** How this process names itself in served_routes (default: a new id, this host and pid). */
  instance?: ServingInstance;
}

/** How often this process tells served_routes it is alive, whatever the poll interval (a controller ignores servers silent for 30 s). */
const SERVED_ROUTES_HEARTBEAT_MS = 10_000;

/** How long "no such endpoint" is believed before the database is asked again. */
const MISSING_TTL_MS = 1_000;
const MAX_MISSING = 10_000;

/**
 * The routing table: (project, endpoint name) → stable, canary + weight, shadow, rollout step, held in
 * memory so a predict reads no database. An endpoint is loaded on its first request and reloaded when
 * its traffic changes (a NOTIFY from the transaction that changed it, or the poll noticing updated_at
 * moved). A version's session is loaded and warmed before the table points at it; a version that fails
 * to load leaves its route on the version it had, and the failure is logged.
 */
export class RoutingTable {
  private readonly byKey = new Map<string, Entry>();
  private readonly keyById = new Map<string, string>();
  private readonly missing = new Map<string, number>();
  private readonly resolving = new Map<string, Promise<EndpointTraffic | undefined>>();
  private readonly refreshes = new Map<string, { again: boolean; done: Promise<void> }>();
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private stopped = false;
  /** Who this process is in served_routes, where it reports what it actually serves. */
  readonly instance: ServingInstance;

  constructor(private readonly opts: RoutingTableOptions) {
    this.instance = opts.instance ?? { instanceId: newId('srv'), host: os.hostname(), pid: process.pid };
  }

  async start(): Promise<void> {
    if (this.opts.listen) {
      this.unlisten = await this.opts.listen(ENDPOINT_CHANGED_CHANNEL, {
        onNotify: (endpointId) => this.onChanged(endpointId),
        // Notifications sent while the listening connection was down are lost: compare everything now.
        onResync: () => void this.poll({ reloadAll: true }),
        onError: (err) => this.opts.logger.warn({ err }, 'routing table lost its LISTEN connection; reconnecting (the poll keeps endpoints current meanwhile)'),
      });
    }
    this.schedulePoll();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), SERVED_ROUTES_HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.unlisten?.();
    await this.polling;
    await Promise.allSettled([...this.refreshes.values()].map((r) => r.done));
    // A process that stops serves nothing: its reports must not hold a rollout's agreement check.
    await forgetServedRoutes(this.opts.db, this.instance.instanceId).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not withdraw this server from served_routes; its rows go stale instead'));
  }

  /** The endpoint's traffic if it is loaded: the per-request path, no I/O. */
  get(projectId: string, name: string): EndpointTraffic | undefined {
    return this.byKey.get(keyOf(projectId, name))?.traffic;
  }

  /** Loads the endpoint on its first request (its versions warmed); undefined when there is no such endpoint. */
  resolve(projectId: string, name: string): Promise<EndpointTraffic | undefined> {
    const key = keyOf(projectId, name);
    const held = this.byKey.get(key);
    if (held) return Promise.resolve(held.traffic);
    if ((this.missing.get(key) ?? 0) > Date.now()) return Promise.resolve(undefined);
    let pending = this.resolving.get(key);
    if (!pending) {
      pending = (async () => {
        const row = await readEndpointTraffic(this.opts.db, { projectId, name });
        if (!row) {
          if (this.missing.size >= MAX_MISSING) this.missing.clear();
          this.missing.set(key, Date.now() + MISSING_TTL_MS);
          return undefined;
        }
        await this.refresh(row.id, row);
        return this.byKey.get(key)?.traffic;
      })().finally(() => this.resolving.delete(key));
      this.resolving.set(key, pending);
    }
    return pending;
  }

  /**
   * Reloads one endpoint. Reloads of an endpoint never overlap: a change arriving during one makes it run
   * once more after, so the last change always wins.
   */
  refresh(endpointId: string, firstRow?: EndpointTrafficRow): Promise<void> {
    const running = this.refreshes.get(endpointId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      let row = firstRow;
      do {
        state.again = false;
        try {
          await this.reload(endpointId, row);
        } catch (err) {
          this.opts.logger.error({ err, endpointId }, 'routing table could not reload an endpoint; it keeps its current traffic until the next change or poll');
          const entry = this.entryById(endpointId);
          if (entry) entry.updatedAt = -1;
        }
        row = undefined;
      } while (state.again && !this.stopped);
    })().finally(() => this.refreshes.delete(endpointId));
    this.refreshes.set(endpointId, state);
    return state.done;
  }

  /** Compares every endpoint's updated_at with what is held and reloads those that moved (all of them with `reloadAll`). */
  async poll(opts: { reloadAll?: boolean } = {}): Promise<void> {
    const rows = await listEndpointChanges(this.opts.db);
    const present = new Set<string>();
    const reloads: Promise<void>[] = [];
    for (const row of rows) {
      present.add(row.id);
      const key = keyOf(row.projectId, row.name);
      const entry = this.byKey.get(key);
      if (entry?.traffic.endpointId === row.id) {
        if (opts.reloadAll || entry.updatedAt !== row.updatedAt.getTime()) reloads.push(this.refresh(row.id));
      } else {
        // Created since it was last asked for: the next request looks again.
        this.missing.delete(key);
      }
    }
    for (const [id, key] of this.keyById) {
      if (!present.has(id)) this.forget(id, key);
    }
    await Promise.all(reloads);
  }

  /** Marks this process' served_routes rows alive; a failure only makes them go stale sooner. */
  private async heartbeat(): Promise<void> {
    if (this.stopped || this.keyById.size === 0) return;
    await heartbeatServedRoutes(this.opts.db, this.instance.instanceId).catch((err: unknown) => this.opts.logger.warn({ err }, 'could not heartbeat served routes'));
  }

  private onChanged(endpointId: string): void {
    if (this.keyById.has(endpointId)) void this.refresh(endpointId);
    // An endpoint this process does not hold: maybe a new one somebody asked for a moment ago.
    else this.missing.clear();
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.poll()
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'routing table poll failed; it tries again'))
        .finally(() => {
          this.polling = undefined;
          this.schedulePoll();
        });
    }, this.opts.pollMs);
    this.pollTimer.unref();
  }

  private entryById(endpointId: string): Entry | undefined {
    const key = this.keyById.get(endpointId);
    return key === undefined ? undefined : this.byKey.get(key);
  }

  private async reload(endpointId: string, given?: EndpointTrafficRow): Promise<void> {
    const row = given ?? (await readEndpointTraffic(this.opts.db, { id: endpointId }));
    const key = this.keyById.get(endpointId);
    if (!row) {
      if (key !== undefined) this.forget(endpointId, key);
      return;
    }
    const previous = key === undefined ? undefined : this.byKey.get(key)?.traffic;
    let complete = true;
    const loadErrors: Partial<Record<TrafficRoute, string>> = {};
    // Warm each new version before the table points at it; one that fails keeps its route where it was.
    const ready = async (fresh: ServedVersion | null, kept: ServedVersion | null, route: TrafficRoute): Promise<ServedVersion | null> => {
      if (!fresh || fresh.id === kept?.id || this.opts.sessions.isWarm(fresh.id)) return fresh;
      try {
        await this.opts.sessions.warm(fresh);
        return fresh;
      } catch (err) {
        complete = false;
        loadErrors[route] = err instanceof Error ? err.message : String(err);
        this.opts.logger.error(
          { err, endpoint: row.name, route, modelVersionId: fresh.id, kept: kept?.id ?? null },
          `model version ${versionLabel(fresh)} failed to load; the ${route} route keeps ${kept ? versionLabel(kept) : 'no version'}`,
        );
        return kept;
      }
    };
    // With nothing else to serve, stable points at the new version even unloaded: its requests then fail and say why.
    const stable = (await ready(row.stable, previous?.stable ?? null, 'stable')) ?? row.stable;
    const canaryVersion = await ready(row.canary, previous?.canary?.version ?? null, 'canary');
    const shadow = await ready(row.shadow, previous?.shadow ?? null, 'shadow');
    if (this.stopped) return;
    const traffic: EndpointTraffic = {
      endpointId: row.id,
      projectId: row.projectId,
      projectName: row.projectName,
      name: row.name,
      stable,
      canary: canaryVersion ? { version: canaryVersion, weight: row.canaryWeight } : null,
      shadow,
      rolloutStep: row.rollout && (row.rollout.status === 'running' || row.rollout.status === 'paused') ? row.rollout.step : -1,
    };
    const newKey = keyOf(row.projectId, row.name);
    this.byKey.set(newKey, { traffic, updatedAt: complete ? row.updatedAt.getTime() : -1 });
    this.keyById.set(row.id, newKey);
    this.missing.delete(newKey);
    this.setGauges(traffic);
    await this.report(traffic, { stable: row.stable?.id ?? null, canary: row.canary?.id ?? null, shadow: row.shadow?.id ?? null }, loadErrors);
  }

  /** Tells served_routes what this process now serves on each route of the endpoint, and what it could not load. */
  private async report(traffic: EndpointTraffic, wanted: Record<TrafficRoute, string | null>, loadErrors: Partial<Record<TrafficRoute, string>>): Promise<void> {
    const serves: Record<TrafficRoute, string | null> = { stable: traffic.stable?.id ?? null, canary: traffic.canary?.version.id ?? null, shadow: traffic.shadow?.id ?? null };
    const routes: ServedRoute[] = (['stable', 'canary', 'shadow'] as const).map((route) => ({ route, versionId: serves[route], wantedVersionId: wanted[route], loadError: loadErrors[route] ?? null }));
    try {
      await reportServedRoutes(this.opts.db, this.instance, traffic.endpointId, routes);
    } catch (err) {
      // Serving goes on; a rollout's agreement check waits for the next report (the next poll retries the load when one failed).
      this.opts.logger.warn({ err, endpoint: traffic.name }, 'could not report served routes');
    }
  }

  private forget(endpointId: string, key: string): void {
    const entry = this.byKey.get(key);
    void forgetServedRoutes(this.opts.db, this.instance.instanceId, endpointId).catch(() => {});
    this.keyById.delete(endpointId);
    this.byKey.delete(key);
    if (entry) this.opts.metrics?.setTraffic(entry.traffic.projectName, entry.traffic.name, [], -1);
  }

  private setGauges(t: EndpointTraffic): void {
    const routes: { version: string; route: 'stable' | 'canary' | 'shadow'; weight: number }[] = [];
    if (t.stable) routes.push({ version: versionLabel(t.stable), route: 'stable', weight: 100 - (t.canary?.weight ?? 0) });
    if (t.canary) routes.push({ version: versionLabel(t.canary.version), route: 'canary', weight: t.canary.weight });
    if (t.shadow) routes.push({ version: versionLabel(t.shadow), route: 'shadow', weight: 100 });
    this.opts.metrics?.setTraffic(t.projectName, t.name, routes, t.rolloutStep);
  }
}

function keyOf(projectId: string, name: string): string {
  return `${projectId}\u0000${name}`;
}
