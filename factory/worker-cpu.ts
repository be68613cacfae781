import { runStandalone } from './standalone';

runStandalone('worker-cpu', { cpuWorker: true });
