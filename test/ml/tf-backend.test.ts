import { describe, expect, it } from 'vitest';
import { tf } from '../../ml/tf';
import { initTfBackend } from '../../ml/tf-backend';

describe('initTfBackend', () => {
  it('falls back from the absent GPU binding to an installed backend, and the first choice sticks', async () => {
    const choice = await initTfBackend({ preferGpu: true });
    // No native binding is installed on CI, so the GPU preference degrades to WASM (or plain JS).
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']).toContain(choice.binding);
    expect(choice.backend).toBe(tf.getBackend());
    expect(await initTfBackend({ preferGpu: false })).toEqual(choice);
    expect(tf.tidy(() => tf.tensor1d([1, 2]).add(1).arraySync())).toEqual([2, 3]);
  });
});
