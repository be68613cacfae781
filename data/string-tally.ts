/** Distinct values tracked per string column; beyond this the count is a lower bound. */
export const DISTINCT_CAP = 10_000;

/** Counts a string column's values, keeping at most DISTINCT_CAP distinct ones. */
export class StringTally {
  private readonly counts = new Map<string, number>();
  private capped = false;

  add(value: string): void {
    const count = this.counts.get(value);
    if (count !== undefined) this.counts.set(value, count + 1);
    else if (this.counts.size < DISTINCT_CAP) this.counts.set(value, 1);
    else this.capped = true;
  }

  get distinct(): number {
    return this.counts.size;
  }

  get distinctCapped(): boolean {
    return this.capped;
  }

  /** The most frequent values, ties broken by code-unit order so the result never depends on arrival order. */
  top(limit: number): { value: string; count: number }[] {
    return [...this.counts]
      .sort(([valueA, countA], [valueB, countB]) => countB - countA || (valueA < valueB ? -1 : valueA > valueB ? 1 : 0))
      .slice(0, limit)
      .map(([value, count]) => ({ value, count }));
  }
}
