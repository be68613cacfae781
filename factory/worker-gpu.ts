import { runStandalone } from './standalone';

runStandalone('worker-gpu', { gpuWorker: true });
