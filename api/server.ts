import { runStandalone } from '../runtime/standalone';

runStandalone('api', { api: true });
