import type { InferenceSession } from 'onnxruntime-node';
import type { ArtifactStore } from '../artifacts/store';
import { loadOnnxSession, runOnnxModel } from './onnx-session';
import type { ServedVersion } from './served-version';

/** A session on loan: `release()` once the run is over, so an evicted session is freed only when nobody uses it. */
export interface SessionLease {
  session: InferenceSession;
  release(): void;
}

interface Entry {
  loading: Promise<InferenceSession>;
  /** Runs holding the session (and loads waiting for it). */
  refs: number;
  evicted: boolean;
  warm: boolean;
  /** Set on eviction: called when the last lease is returned. */
  onIdle?: () => void;
}

/**
 * ONNX sessions by model version id, least recently used evicted beyond `maxSessions`. A failed load is
 * not kept (the next request tries again); an evicted session is released after its last run finishes.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly disposing = new Set<Promise<void>>();

  constructor(
    private readonly opts: {
      artifacts: Pick<ArtifactStore, 'get'>;
      maxSessions: number;
      /** Called after a session's native memory has been released (eviction or close). */
      onReleased?: (versionId: string) => void;
    },
  ) {}

  /** Loads (once) and lends the version's session. */
  async acquire(version: Pick<ServedVersion, 'id' | 'onnxUri'>): Promise<SessionLease> {
    let entry = this.entries.get(version.id);
    if (entry) {
      // Most recently used goes last: Map keeps insertion order.
      this.entries.delete(version.id);
      this.entries.set(version.id, entry);
    } else {
      entry = { loading: this.opts.artifacts.get(version.onnxUri).then(loadOnnxSession), refs: 0, evicted: false, warm: false };
      this.entries.set(version.id, entry);
      this.evictBeyondLimit();
    }
    const held = entry;
    held.refs++;
    let session: InferenceSession;
    try {
      session = await held.loading;
    } catch (err) {
      held.refs--;
      if (this.entries.get(version.id) === held) this.entries.delete(version.id);
      throw err;
    }
    let returned = false;
    return {
      session,
      release: () => {
        if (returned) return;
        returned = true;
        held.refs--;
        if (held.refs === 0) held.onIdle?.();
      },
    };
  }

  /** Runs the version's model on row-major `x` [n, features] and returns its output, row-major. */
  async run(version: ServedVersion, x: Float32Array, n: number): Promise<Float32Array> {
    const lease = await this.acquire(version);
    try {
      return await runOnnxModel(lease.session, x, n, version.inputSchema.features.length, version.outputSchema.name);
    } finally {
      lease.release();
    }
  }

  /** Loads the session and runs it once on a row of zeros, so its first real request pays no load or first-run cost. */
  async warm(version: ServedVersion): Promise<void> {
    await this.run(version, new Float32Array(version.inputSchema.features.length), 1);
    const entry = this.entries.get(version.id);
    if (entry) entry.warm = true;
  }

  isWarm(versionId: string): boolean {
    return this.entries.get(versionId)?.warm ?? false;
  }

  /** Version ids with a session held, least recently used first. */
  loaded(): string[] {
    return [...this.entries.keys()];
  }

  /** Evicts every session; resolves once all are released (after their in-flight runs). */
  async close(): Promise<void> {
    for (const id of [...this.entries.keys()]) this.evict(id);
    await Promise.all([...this.disposing]);
  }

  private evictBeyondLimit(): void {
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxSessions) return;
      this.evict(id);
    }
  }

  private evict(versionId: string): void {
    const entry = this.entries.get(versionId);
    if (!entry) return;
    this.entries.delete(versionId);
    entry.evicted = true;
    const idle = entry.refs === 0 ? Promise.resolve() : new Promise<void>((resolve) => (entry.onIdle = resolve));
    const disposed = idle
      .then(() => entry.loading)
      .then(
        async (session) => {
          try {
            await session.release();
          } catch {
            return; // already gone with its process' native state: nothing left to free
          }
          this.opts.onReleased?.(versionId);
        },
        () => {}, // never loaded: nothing to release
      )
      .finally(() => this.disposing.delete(disposed));
    this.disposing.add(disposed);
  }
}
