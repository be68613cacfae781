import { tf } from './tf';

export type TfBinding = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface TfBackendChoice {
  backend: string;
  binding: TfBinding;
}

let chosen: Promise<TfBackendChoice> | undefined;

/**
 * Picks the fastest backend installed: the CUDA binding when a GPU is wanted, the native CPU binding, then
 * WASM, then plain JS. TensorFlow.js has one backend per process, so the first call decides.
 */
export function initTfBackend(opts: { preferGpu: boolean }): Promise<TfBackendChoice> {
  chosen ??= choose(opts.preferGpu);
  return chosen;
}

async function choose(preferGpu: boolean): Promise<TfBackendChoice> {
  if (preferGpu && loads('@tensorflow/tfjs-node-gpu') && (await activates('tensorflow'))) {
    return { backend: tf.getBackend(), binding: 'tfjs-node-gpu' };
  }
  if (loads('@tensorflow/tfjs-node') && (await activates('tensorflow'))) {
    return { backend: tf.getBackend(), binding: 'tfjs-node' };
  }
  if (loads('@tensorflow/tfjs-backend-wasm') && (await activates('wasm'))) {
    return { backend: tf.getBackend(), binding: 'wasm' };
  }
  await tf.setBackend('cpu');
  return { backend: tf.getBackend(), binding: 'cpu' };
}

/** False instead of a throw: a binding built against another tfjs-core copy registers on an engine we don't use. */
async function activates(backendName: string): Promise<boolean> {
  try {
    return await tf.setBackend(backendName);
  } catch {
    return false;
  }
}

/** Optional native bindings: absent on most machines, so a failed require is the normal case. */
function loads(moduleName: string): boolean {
  try {
    // A runtime probe of optional packages: a static import would fail where they are not installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(moduleName);
    return true;
  } catch {
    return false;
  }
}
