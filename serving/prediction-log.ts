import type { DatabaseHandle, Db } from '../db/client';
import { appendPredictionRows, type PredictionLogRow } from '../db/queries/prediction-log';
import type { Logger } from '../platform/logger';

export type { PredictionLogRow } from '../db/queries/prediction-log';

/** A request's place in the log, taken before its model runs. */
export interface LogReservation {
  /** Queues the request's rows (they may number other than reserved) and resolves once committed. */
  write: (rows: PredictionLogRow[]) => Promise<void>;
  /** The request ends without rows (invalid input): gives the place back. */
  cancel: () => void;
}

interface PendingWrite {
  rows: PredictionLogRow[];
  /** Absent for rows nobody waits on (shadow copies). */
  committed?: { resolve: () => void; reject: (err: unknown) => void };
}

export interface PredictionLogOptions {
  db: Db;
  /** The database handle's COPY, when it has one (PGlite). */
  copyIn?: DatabaseHandle['copyIn'];
  /** Rows accepted but not yet committed above which new predictions are refused (503). */
  maxPendingRows: number;
  /** Rows per INSERT (whole requests are never split, so one large request may exceed it). */
  chunkRows: number;
  /** INSERTs in flight at once (1 on PGlite, whose one connection runs them in turn anyway). */
  concurrency?: number;
  logger: Logger;
  onPending?: (rows: number) => void;
  onWritten?: (rows: number) => void;
}

/**
 * The prediction log's writer: group commit. Every request waiting when an INSERT starts is written by
 * that one multi-row INSERT, and `write` resolves only after the commit, so an answer the caller got is
 * in the database even if the process is SIGKILLed right after. Up to `concurrency` INSERTs run at once;
 * what arrives while all are busy joins the next.
 */
export class PredictionLogWriter {
  private queue: PendingWrite[] = [];
  private queuedRows = 0;
  /** Rows of requests admitted (tryReserve) whose rows are not queued yet: they are running their model. */
  private reservedRows = 0;
  private writingRows = 0;
  private readonly lanes = new Set<Promise<void>>();
  private state: 'open' | 'closing' | 'closed' = 'open';

  constructor(private readonly opts: PredictionLogOptions) {}

  /** Rows admitted and not yet committed (including requests still running their model). */
  get pendingRows(): number {
    return this.reservedRows + this.queuedRows + this.writingRows;
  }

  /** Whether `rows` more fit under the limit (an idle log takes any request, however large). */
  hasRoomFor(rows: number): boolean {
    const pending = this.pendingRows;
    return pending === 0 || pending + rows <= this.opts.maxPendingRows;
  }

  get accepting(): boolean {
    return this.state !== 'closed';
  }

  /**
   * Admits a request of `rows` records before its model runs, or refuses it (undefined) when the log is
   * behind. The reservation counts as pending until `write` queues its rows or `cancel` gives it back.
   */
  tryReserve(rows: number): LogReservation | undefined {
    if (this.state === 'closed' || !this.hasRoomFor(rows)) return undefined;
    this.reservedRows += rows;
    let open = true;
    const settle = (): void => {
      if (!open) return;
      open = false;
      this.reservedRows -= rows;
    };
    return {
      write: (logRows) => {
        settle();
        return this.write(logRows);
      },
      cancel: settle,
    };
  }

  /** Appends rows; resolves once they are committed, rejects if their INSERT failed. */
  write(rows: PredictionLogRow[]): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error('the prediction log is closed'));
    return new Promise<void>((resolve, reject) => this.enqueue({ rows, committed: { resolve, reject } }));
  }

  /** Appends rows nobody waits for (shadow copies) when they fit; false when they were dropped. */
  offer(rows: PredictionLogRow[]): boolean {
    if (this.state === 'closed' || !this.hasRoomFor(rows.length)) return false;
    this.enqueue({ rows });
    return true;
  }

  /** Stops taking rows once everything accepted so far (and whatever arrives while it drains) is committed. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closing';
    while (this.lanes.size > 0) await Promise.all([...this.lanes]);
    this.state = 'closed';
  }

  private enqueue(write: PendingWrite): void {
    this.queue.push(write);
    this.queuedRows += write.rows.length;
    this.opts.onPending?.(this.pendingRows);
    if (this.lanes.size < (this.opts.concurrency ?? 1)) {
      const lane: Promise<void> = this.drain().finally(() => this.lanes.delete(lane));
      this.lanes.add(lane);
    }
  }

  /** One writer: takes whatever is queued (up to a chunk), writes it, and goes on until the queue is empty. */
  private async drain(): Promise<void> {
    // Let the requests answering in this turn of the event loop join the first INSERT.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const chunk = this.takeChunk();
      const rows = chunk.flatMap((w) => w.rows);
      this.writingRows += rows.length;
      try {
        await appendPredictionRows(this.opts, rows);
        this.opts.onWritten?.(rows.length);
        for (const w of chunk) w.committed?.resolve();
      } catch (err) {
        this.opts.logger.error({ err, rows: rows.length }, 'prediction log INSERT failed; the requests waiting on it get an error');
        for (const w of chunk) w.committed?.reject(err);
      } finally {
        this.writingRows -= rows.length;
        this.opts.onPending?.(this.pendingRows);
      }
    }
  }

  private takeChunk(): PendingWrite[] {
    let count = 0;
    let rows = 0;
    for (const next of this.queue) {
      if (count > 0 && rows + next.rows.length > this.opts.chunkRows) break;
      count++;
      rows += next.rows.length;
    }
    this.queuedRows -= rows;
    return this.queue.splice(0, count);
  }
}
