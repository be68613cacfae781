import { runStandalone } from '../runtime/standalone';

runStandalone('worker-cpu', { cpuWorker: true });
