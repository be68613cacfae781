import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { chooseRoute, routingBucket } from '../../serving/traffic-split';

describe('chooseRoute', () => {
  it('gives the canary its weight of 2,000 random draws (30 % ± 3)', () => {
    const random = seedrandom('canary-weight');
    const canary = Array.from({ length: 2_000 }, () => chooseRoute(30, undefined, random)).filter((r) => r === 'canary').length;
    expect(canary / 2_000).toBeGreaterThan(0.27);
    expect(canary / 2_000).toBeLessThan(0.33);
  });

  it('sends everything to stable at weight 0 and to the canary at 100', () => {
    expect(new Set(Array.from({ length: 200 }, (_, i) => chooseRoute(0, `k${i}`)))).toEqual(new Set(['stable']));
    expect(new Set(Array.from({ length: 200 }, () => chooseRoute(100, undefined)))).toEqual(new Set(['canary']));
  });

  it('keeps a routing key on one side for a given weight, and a raised weight only moves keys to the canary', () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `customer-${i}`);
    const at10 = keys.map((k) => chooseRoute(10, k));
    expect(keys.map((k) => chooseRoute(10, k, () => 0.99))).toEqual(at10);
    const at50 = keys.map((k) => chooseRoute(50, k));
    expect(at10.every((route, i) => route === 'stable' || at50[i] === 'canary')).toBe(true);
    // Buckets spread evenly: the keys' share follows the weight too.
    expect(at50.filter((r) => r === 'canary').length / keys.length).toBeGreaterThan(0.45);
    expect(at50.filter((r) => r === 'canary').length / keys.length).toBeLessThan(0.55);
  });

  it('hashes a key to the same bucket every time (FNV-1a)', () => {
    expect(routingBucket('customer-42')).toBe(routingBucket('customer-42'));
    expect(routingBucket('')).toBe(0x811c9dc5 % 100);
  });
});
