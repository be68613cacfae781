import { createHash } from 'node:crypto';

/**
 * sha256 over the normalised table: one JSON array per line (header first), values trimmed, numbers in canonical
 * form, missing values as null. JSON escaping means no value can forge a separator, and the original quoting and
 * line ends play no part.
 */
export class ContentHasher {
  private readonly hash = createHash('sha256');

  addLine(values: readonly (string | null)[]): void {
    this.hash.update(`${JSON.stringify(values)}\n`);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
