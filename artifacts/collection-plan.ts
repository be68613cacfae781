export interface CollectableFile {
  id: string;
  bytes: number;
  modifiedAt: Date;
}

export interface CollectionPlan<T extends CollectableFile> {
  delete: T[];
  keptReferenced: number;
  /** Unreferenced but younger than the grace period: an in-flight workflow may be about to record it. */
  keptYoung: number;
}

/**
 * Decides which stored files to delete: those no live row references and that are older than the grace
 * period. Pure, so the rule that can lose data is unit-tested on its own.
 */
export function planCollection<T extends CollectableFile>(input: { files: Iterable<T>; referenced: ReadonlySet<string>; now: Date; graceMs: number }): CollectionPlan<T> {
  const cutoff = input.now.getTime() - input.graceMs;
  const plan: CollectionPlan<T> = { delete: [], keptReferenced: 0, keptYoung: 0 };
  for (const file of input.files) {
    if (input.referenced.has(file.id)) plan.keptReferenced++;
    // Strictly older than the cutoff: a file written in the same millisecond as `now - grace` stays.
    else if (!(file.modifiedAt.getTime() < cutoff)) plan.keptYoung++;
    else plan.delete.push(file);
  }
  return plan;
}
