import { runStandalone } from './standalone';

runStandalone('api', { api: true });
