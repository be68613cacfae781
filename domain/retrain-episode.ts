/**
 * The episode a retrain claim is for. A drift episode is a run of drifted monitor reports of one model
 * version with no calm report between: monitors run seconds apart over overlapping windows land in the same
 * episode, a calm window ends it. Schedules and manual requests are each an episode of their own.
 */

/** A stored drift report as the episode sees it. */
export interface EpisodeReport {
  id: string;
  modelVersionId: string;
  drifted: boolean;
  /** Enough rows to judge: a quiet window with too little traffic is no evidence of calm. */
  enoughRows: boolean;
  windowTo: string;
  createdAt: string;
}

/** Orders reports by window end, then by when they were stored, then by id (a total order every monitor agrees on). */
function before(a: EpisodeReport, b: EpisodeReport): boolean {
  const at = Date.parse(a.windowTo) - Date.parse(b.windowTo);
  if (at !== 0) return at < 0;
  const stored = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (stored !== 0) return stored < 0;
  return a.id < b.id;
}

/**
 * `<modelVersionId>:<id of the last calm report of that version before this one, or 'first'>`.
 * `reports` are the version's reports (others are ignored); the drifted report itself may be among them.
 */
export function driftEpisode(report: EpisodeReport, reports: readonly EpisodeReport[]): string {
  let calm: EpisodeReport | null = null;
  for (const r of reports) {
    if (r.modelVersionId !== report.modelVersionId || r.id === report.id || r.drifted || !r.enoughRows) continue;
    if (!before(r, report)) continue;
    if (calm === null || before(calm, r)) calm = r;
  }
  return `${report.modelVersionId}:${calm?.id ?? 'first'}`;
}

/** A schedule's firing: the same scheduled time is one episode however often its run is retried or overlapped. */
export function scheduleEpisode(scheduleName: string, scheduledAt: string): string {
  return `schedule:${scheduleName}:${scheduledAt}`;
}

/** A manual request: one episode per request (the request id names the retrain's workflow). */
export function manualEpisode(requestId: string): string {
  return `manual:${requestId}`;
}

/**
 * The retrain workflow id of a model's episode and attempt: every alarm of the episode derives the same one for
 * the same attempt (the first keeps the id claims had before attempts were counted).
 */
export function retrainWorkflowId(modelId: string, episode: string, attempt = 1): string {
  return attemptWorkflowId(`retrain-${modelId}-${episode}`, attempt);
}

/** A later attempt's workflow id: the first attempt's with the attempt number. */
export function attemptWorkflowId(firstWorkflowId: string, attempt: number): string {
  return attempt === 1 ? firstWorkflowId : `${firstWorkflowId}:attempt-${attempt}`;
}

/** How often a failed drift retrain is tried again within its episode, and how long each waits. */
export interface RetrainRetry {
  maxAttempts: number;
  /** Before the 2nd attempt; each further one waits twice as long. */
  backoffSeconds: number;
}

export const DEFAULT_RETRAIN_RETRY: RetrainRetry = { maxAttempts: 3, backoffSeconds: 600 };

/** When the attempt after failed `attempt` may be claimed; null when it was the last one allowed. */
export function nextAttemptAt(failedAt: Date, attempt: number, retry: RetrainRetry): Date | null {
  if (attempt >= retry.maxAttempts) return null;
  return new Date(failedAt.getTime() + retry.backoffSeconds * 1000 * 2 ** (attempt - 1));
}
