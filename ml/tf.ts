import * as tf from '@tensorflow/tfjs';

/** The one TensorFlow.js namespace: native bindings, when loaded, register their backend on this engine. */
export { tf };
