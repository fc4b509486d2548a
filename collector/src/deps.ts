/** What the routes share: the parts `buildCollector` wires together (server.ts). */
import type { Config } from './config.ts';
import type { EventBus } from './events.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import type { Store } from './store/db.ts';
import type { AlertRuntime } from './alerts/runtime.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  events: EventBus;
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number };
  /** Alert rules, the write-path hooks and the delivery worker. */
  alerts: AlertRuntime;
}
