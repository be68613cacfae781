// The serving runtime in a process of its own: infra-validation loads a candidate here, so a model that
// crashes or hangs onnxruntime takes down this child, never the worker. Usage: node infra-child <model.onnx>
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Tensor } from 'onnxruntime-node';
import { loadOnnxSession } from './onnx-session';
import type { ChildMessage, ParentMessage } from './infra-protocol';

/** Resolves once the message is handed to the channel, so an exit right after cannot drop it. */
function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  const modelPath = process.argv[2];
  if (!modelPath || !process.send) throw new Error('infra-child runs as a child process with an IPC channel and a model path');
  let session;
  try {
    session = await loadOnnxSession(await readFile(modelPath));
  } catch (err) {
    await send({ type: 'error', id: null, message: `the serving runtime cannot load the model: ${err instanceof Error ? err.message : String(err)}` });
    process.exit(2);
  }
  const loaded = session;
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'exit') process.exit(0);
    void (async () => {
      try {
        const started = performance.now();
        const result = await loaded.run({ features: new Tensor('float32', Float32Array.from(message.x), [message.n, message.width]) }, [message.outputName]);
        const ms = performance.now() - started;
        const output = result[message.outputName];
        if (!output) throw new Error(`the model has no "${message.outputName}" output`);
        await send({ type: 'result', id: message.id, outputs: Array.from(output.data as Float32Array), dims: output.dims.map(Number), ms });
      } catch (err) {
        await send({ type: 'error', id: message.id, message: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  // The parent going away (worker killed) ends the child too.
  process.on('disconnect', () => process.exit(0));
  await send({ type: 'ready', inputNames: [...loaded.inputNames], outputNames: [...loaded.outputNames] });
}

main().catch(async (err: unknown) => {
  await send({ type: 'error', id: null, message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
