import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../serving/session-cache';
import { goodOnnx, unknownOpOnnx } from '../support/onnx-graphs';

const bytes = new Map<string, Uint8Array>([
  ['onnx://good', goodOnnx()],
  ['onnx://broken', unknownOpOnnx()],
]);
const artifacts = {
  loads: 0,
  get(uri: string): Promise<Buffer> {
    this.loads++;
    const found = bytes.get(uri);
    return found ? Promise.resolve(Buffer.from(found)) : Promise.reject(new Error(`no artifact ${uri}`));
  },
};
const version = (id: string, onnxUri = 'onnx://good') => ({
  id,
  model: 'm',
  version: 1,
  onnxUri,
  inputSchema: { name: 'features' as const, features: ['f0', 'f1'] },
  outputSchema: { name: 'probabilities' as const, classes: ['no', 'yes'], labelType: 'string' as const },
});

describe('SessionCache', () => {
  it('evicts the least recently used session and releases it only after its in-flight run returns', async () => {
    const released: string[] = [];
    const cache = new SessionCache({ artifacts, maxSessions: 2, onReleased: (id) => released.push(id) });
    const a = await cache.acquire(version('a'));
    await cache.warm(version('b'));
    await cache.warm(version('c')); // a is the least recently used: evicted, but still lent out
    expect(cache.loaded()).toEqual(['b', 'c']);
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toEqual([]);
    // The lent session still runs.
    const out = await a.session.run({ features: new (await import('onnxruntime-node')).Tensor('float32', new Float32Array([1, 2]), [1, 2]) });
    expect(Object.keys(out)).toContain('probabilities');
    a.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toEqual(['a']);
    await cache.close();
    expect(released.sort()).toEqual(['a', 'b', 'c']);
  });

  it('keeps a recently used session over an older one', async () => {
    const cache = new SessionCache({ artifacts, maxSessions: 2 });
    await cache.warm(version('a'));
    await cache.warm(version('b'));
    await cache.warm(version('a'));
    await cache.warm(version('c'));
    expect(cache.loaded()).toEqual(['a', 'c']);
    await cache.close();
  });

  it('does not keep a failed load: the next request tries again', async () => {
    const cache = new SessionCache({ artifacts, maxSessions: 4 });
    const before = artifacts.loads;
    await expect(cache.warm(version('x', 'onnx://broken'))).rejects.toThrow();
    expect(cache.loaded()).toEqual([]);
    await expect(cache.warm(version('x', 'onnx://broken'))).rejects.toThrow();
    expect(artifacts.loads - before).toBe(2);
    expect(cache.isWarm('x')).toBe(false);
    await cache.close();
  });
});
