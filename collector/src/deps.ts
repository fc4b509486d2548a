/** What the routes share: the parts `buildCollector` wires together (server.ts). */
import type { Config } from './config.ts';
import type { EventBus } from './events.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import type { RequestPreparer } from './ingest/prepare.ts';
import type { Store } from './store/db.ts';
import type { StorageHealth } from './store/health.ts';
import type { AlertRuntime } from './alerts/runtime.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  /** Decodes OTLP bodies within the request limits (big ones in a worker thread). */
  preparer: RequestPreparer;
  events: EventBus;
  /** Whether the database answers; the breaker that turns an outage into fast 503s (store/health.ts). */
  health: StorageHealth;
  /** Set on SIGTERM: new requests are answered 503 + Retry-After while those in flight (counted here) finish. */
  lifecycle: { draining: boolean; inFlight: number };
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number; checkpoints: number; vacuums: number };
  /** Alert rules, the write-path hooks and the delivery worker. */
  alerts: AlertRuntime;
}
