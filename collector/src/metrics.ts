/**
 * GET /metrics — Prometheus text about the collector itself (DESIGN §6): spans in, write
 * batches, latency, the queue, stuck sessions and live viewers. Same token as the API.
 */
import type { Hono } from 'hono';
import { eq, inArray } from 'drizzle-orm';
import { alertDeliveries, sessions } from './store/tables/index.ts';
import type { CollectorDeps } from './deps.ts';
import { requireApiToken } from './auth.ts';
import { sseClientCount, sseDroppedCount } from './api/stream.ts';

type Metric = { name: string; type: 'counter' | 'gauge'; help: string; value: number } | { name: string; type: 'counter' | 'gauge'; help: string; series: { labels: Record<string, string>; value: number }[] };

const sample = (name: string, value: number, labels: Record<string, string> = {}) => {
  const l = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
  return `${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}\n`;
};

export function renderPrometheus(metrics: Metric[]): string {
  return metrics
    .map((m) => `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${'series' in m ? m.series.map((s) => sample(m.name, s.value, s.labels)).join('') : sample(m.name, m.value)}`)
    .join('');
}

export function registerMetrics(app: Hono, deps: CollectorDeps): void {
  app.get('/metrics', requireApiToken(deps.config.apiToken), async (c) => {
    const s = deps.pipeline.stats;
    // Ingest counts per-span rejections once it reports them in its stats; until then this reads 0.
    const rejected = s.spansRejected;
    // sessions_stuck_idx (stuck, last_seen_at). Not asked while the database is down: the rest still answers.
    const storageUp = deps.health.up;
    const stuckNow = storageUp ? await deps.store.db.$count(sessions, eq(sessions.stuck, true)) : NaN;
    // alert_deliveries_due_idx covers exactly these rows.
    const waiting = storageUp ? await deps.store.db.$count(alertDeliveries, inArray(alertDeliveries.status, ['pending', 'retrying'])) : NaN;
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
      { name: 'faultline_sse_dropped_total', type: 'counter', help: 'Live viewers dropped for falling too far behind (each reconnects and resumes).', value: sseDroppedCount(deps.events) },
      { name: 'faultline_storage_up', type: 'gauge', help: 'Whether the database answers (0 while ingest and the API answer 503).', value: storageUp ? 1 : 0 },
      { name: 'faultline_storage_outages_total', type: 'counter', help: 'Times the database became unavailable.', value: deps.health.stats.trips },
      { name: 'faultline_checkpoints_total', type: 'counter', help: 'CHECKPOINTs the collector ran on embedded storage.', value: deps.metrics.checkpoints },
      { name: 'faultline_vacuums_total', type: 'counter', help: 'Tables the collector vacuumed on embedded storage.', value: deps.metrics.vacuums },
      {
        name: 'faultline_alert_deliveries_total',
        type: 'counter',
        help: 'Alert and session-webhook delivery attempts by this collector, by result (retry: failed, tried again later; failed: given up or refused).',
        series: (['sent', 'retry', 'failed'] as const).map((result) => ({
          labels: { result },
          value: result === 'sent' ? deps.alerts.counters.sent : result === 'retry' ? deps.alerts.counters.retried : deps.alerts.counters.failed,
        })),
      },
      { name: 'faultline_alert_deliveries_waiting', type: 'gauge', help: 'Deliveries waiting to be sent or retried (all collectors).', value: waiting },
    ].filter((m) => !((m.name === 'faultline_stuck_sessions' || m.name === 'faultline_alert_deliveries_waiting') && !storageUp)) as Metric[]);
    return c.body(body, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
