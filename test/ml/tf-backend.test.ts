import { describe, expect, it } from 'vitest';
import { tf } from '../../ml/tf';
import { initTfBackend } from '../../ml/tf-backend';

function installed(moduleName: string): boolean {
  try {
    require.resolve(moduleName);
    return true;
  } catch {
    return false;
  }
}

describe('initTfBackend', () => {
  it('picks the best installed binding for a GPU worker, and the first choice sticks', async () => {
    const choice = await initTfBackend({ preferGpu: true });
    // What this machine should get: the CUDA binding, else the native CPU one, else WASM (CI has neither native one).
    const expected = installed('@tensorflow/tfjs-node-gpu') ? 'tfjs-node-gpu' : installed('@tensorflow/tfjs-node') ? 'tfjs-node' : 'wasm';
    expect(choice.binding).toBe(expected);
    expect(choice.backend).toBe(expected === 'wasm' ? 'wasm' : 'tensorflow');
    expect(tf.getBackend()).toBe(choice.backend);
    expect(await initTfBackend({ preferGpu: false })).toEqual(choice);
    expect(tf.tidy(() => tf.tensor1d([1, 2]).add(1).arraySync())).toEqual([2, 3]);
  });
});
