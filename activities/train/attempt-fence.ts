import { ApplicationFailure } from '@temporalio/common';
import { and, eq, isNull, lte, or, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { trainingRuns } from '../../db/schema';

/** `ApplicationFailure.type` of an attempt Temporal has already given to a newer one: it stops without writing. */
export const STALE_TRAINING_ATTEMPT = 'StaleTrainingAttempt';

/**
 * Fences a run's writes on the attempt: the token is when Temporal scheduled this attempt, which grows with
 * every retry and with every later scheduling of the activity (a reset workflow), unlike the attempt number.
 */
export class TrainingAttemptFence {
  constructor(
    private readonly db: Db,
    readonly trainingRunId: string,
    readonly scheduledAt: Date,
  ) {}

  /** Records this attempt as the run's newest; refused when a newer attempt already started. */
  async claim(): Promise<void> {
    await this.write({ attemptScheduledAt: this.scheduledAt });
  }

  /** Writes the run's row only while no newer attempt has claimed it. */
  async write(values: Partial<typeof trainingRuns.$inferInsert>): Promise<void> {
    const written = await this.db.update(trainingRuns).set(values).where(this.ours()).returning({ id: trainingRuns.id });
    if (written.length === 0) {
      throw ApplicationFailure.create({
        type: STALE_TRAINING_ATTEMPT,
        message: `training run ${this.trainingRunId}: a newer attempt took over the run; this attempt (scheduled ${this.scheduledAt.toISOString()}) stops without writing`,
        nonRetryable: true,
      });
    }
  }

  private ours(): SQL | undefined {
    return and(eq(trainingRuns.id, this.trainingRunId), or(isNull(trainingRuns.attemptScheduledAt), lte(trainingRuns.attemptScheduledAt, this.scheduledAt)));
  }
}
