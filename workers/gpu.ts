import { runStandalone } from '../runtime/standalone';

runStandalone('worker-gpu', { gpuWorker: true });
