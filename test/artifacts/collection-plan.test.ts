import { describe, expect, it } from 'vitest';
import { planCollection } from '../../artifacts/collection-plan';

const HOUR = 3_600_000;
const now = new Date('2025-01-02T00:00:00Z');
const file = (id: string, ageHours: number) => ({ id, bytes: 10, modifiedAt: new Date(now.getTime() - ageHours * HOUR) });

describe('planCollection', () => {
  it('deletes only unreferenced files older than the grace period', () => {
    const files = [file('referenced-old', 100), file('orphan-old', 25), file('orphan-young', 1), file('referenced-young', 0)];
    const plan = planCollection({ files, referenced: new Set(['referenced-old', 'referenced-young']), now, graceMs: 24 * HOUR });
    expect(plan.delete.map((f) => f.id)).toEqual(['orphan-old']);
    expect(plan).toMatchObject({ keptReferenced: 2, keptYoung: 1 });
  });

  it('keeps a file exactly at the cutoff, and with no grace deletes every orphan written before now', () => {
    expect(planCollection({ files: [file('edge', 24)], referenced: new Set(), now, graceMs: 24 * HOUR }).delete).toEqual([]);
    const plan = planCollection({ files: [file('a', 0.001), file('b', 0)], referenced: new Set(), now, graceMs: 0 });
    expect(plan.delete.map((f) => f.id)).toEqual(['a']);
    expect(plan.keptYoung).toBe(1);
  });

  it('never deletes a referenced file, however old', () => {
    const plan = planCollection({ files: [file('x', 1e6)], referenced: new Set(['x']), now, graceMs: 0 });
    expect(plan.delete).toEqual([]);
  });

  it('treats an unreadable date as young rather than deleting', () => {
    const plan = planCollection({ files: [{ id: 'nan', bytes: 1, modifiedAt: new Date(Number.NaN) }], referenced: new Set(), now, graceMs: 0 });
    expect(plan.delete).toEqual([]);
  });
});
