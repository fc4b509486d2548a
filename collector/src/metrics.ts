/**
 * GET /metrics — Prometheus text about the collector itself (DESIGN §6): spans in, write
 * batches, latency, the queue, stuck sessions and live viewers. Same token as the API.
 */
import type { Hono } from 'hono';
import { eq } from 'drizzle-orm';
import { sessions } from './store/tables/index.ts';
import type { CollectorDeps } from './deps.ts';
import { requireApiToken } from './auth.ts';
import { sseClientCount } from './api/stream.ts';

type Metric = { name: string; type: 'counter' | 'gauge'; help: string; value: number };

export function renderPrometheus(metrics: Metric[]): string {
  return metrics.map((m) => `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${Number.isFinite(m.value) ? m.value : 0}\n`).join('');
}

export function registerMetrics(app: Hono, deps: CollectorDeps): void {
  app.get('/metrics', requireApiToken(deps.config.apiToken), async (c) => {
    const s = deps.pipeline.stats;
    // Ingest counts per-span rejections once it reports them in its stats; until then this reads 0.
    const rejected = s.spansRejected;
    // sessions_stuck_idx (stuck, last_seen_at).
    const stuckNow = await deps.store.db.$count(sessions, eq(sessions.stuck, true));
    const body = renderPrometheus([
      { name: 'faultline_spans_accepted_total', type: 'counter', help: 'Spans stored (new, not duplicates).', value: s.spansAccepted },
      { name: 'faultline_spans_duplicate_total', type: 'counter', help: 'Spans received again and ignored (idempotent ingest).', value: s.spansDuplicate },
      { name: 'faultline_spans_rejected_total', type: 'counter', help: 'Spans rejected at decode (reported to clients as partial success).', value: rejected },
      { name: 'faultline_log_records_received_total', type: 'counter', help: 'OTLP log records received (stored as session events and error occurrences).', value: s.logRecordsReceived },
      { name: 'faultline_metric_points_refused_total', type: 'counter', help: 'OTLP metric data points answered with partial success: Faultline stores no metrics.', value: s.metricPointsRefused },
      { name: 'faultline_ingest_queue_depth', type: 'gauge', help: 'Spans accepted over HTTP and waiting for the database.', value: s.queueDepth },
      { name: 'faultline_write_batches_total', type: 'counter', help: 'Write transactions committed.', value: s.batchesWritten },
      { name: 'faultline_write_failures_total', type: 'counter', help: 'Write transactions that failed (answered 503).', value: s.writeFailures },
      { name: 'faultline_write_latency_ms_last', type: 'gauge', help: 'Duration of the last committed write transaction in milliseconds.', value: Math.round(s.lastWriteMs * 1000) / 1000 },
      { name: 'faultline_stuck_sessions', type: 'gauge', help: 'Sessions flagged stuck right now.', value: stuckNow },
      { name: 'faultline_stuck_flagged_total', type: 'counter', help: 'Sessions the watchdog has flagged stuck since start.', value: deps.metrics.stuckFlagged },
      { name: 'faultline_sse_clients', type: 'gauge', help: 'Live viewers connected to /api/stream.', value: sseClientCount(deps.events) },
    ]);
    return c.body(body, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
