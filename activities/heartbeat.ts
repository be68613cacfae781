import type { Context } from '@temporalio/activity';

/** No more than this between heartbeats, however long the heartbeat timeout: progress stays fresh in the UI. */
const MAX_HEARTBEAT_INTERVAL_MS = 5_000;

/** How often to heartbeat: a third of the heartbeat timeout (so two may be lost), at most every 5 s. */
export function heartbeatIntervalMs(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return MAX_HEARTBEAT_INTERVAL_MS;
  return Math.max(100, Math.min(MAX_HEARTBEAT_INTERVAL_MS, Math.floor(heartbeatTimeoutMs / 3)));
}

/**
 * A heartbeat for tight loops: `beat(details)` sends only when the interval has passed since the last one
 * (`force` sends anyway), so per-batch or per-chunk calls cost nothing.
 */
export function throttledHeartbeat(ctx: Context): (details: unknown, force?: boolean) => void {
  const interval = heartbeatIntervalMs(ctx.info.heartbeatTimeoutMs);
  let last = Number.NEGATIVE_INFINITY;
  return (details, force = false) => {
    const now = Date.now();
    if (!force && now - last < interval) return;
    last = now;
    ctx.heartbeat(details);
  };
}
