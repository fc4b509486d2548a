/** The collector as a library: start one in a process of your own, or serve its app elsewhere. */
export { startCollector, buildCollector, type RunningCollector } from './server.ts';
export { createApp, type AppType } from './app.ts';
export { loadConfig, testConfig, type Config } from './config.ts';
export { openStore, type Store } from './store/db.ts';
export type { CollectorDeps } from './deps.ts';
