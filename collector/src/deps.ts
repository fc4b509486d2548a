/** What the routes share: the parts `buildCollector` wires together (server.ts). */
import type { Config } from './config.ts';
import type { EventBus } from './events.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import type { Store } from './store/db.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  events: EventBus;
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number };
}
