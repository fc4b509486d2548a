/**
 * One OTLP export request, whatever carried it (HTTP or gRPC): decode → (log records into spans)
 * → enrich → the write pipeline, and the partial-success outcome. The HTTP route and the gRPC
 * server only translate transport details (content type, compression, keys, status codes) around
 * this, so decoding, limits and back-pressure are the same on every path.
 */
import type { Config } from '../config.ts';
import { countMetricDataPoints, decodeLogsRequest, decodeTraceRequest, type OtlpFormat } from '../otlp/index.ts';
import type { RejectedKey } from '../otlp/encode.ts';
import type { RejectedSpan } from '../otlp/types.ts';
import { enrichSpansYielding } from './enrich.ts';
import { logRecordsToSpans } from './logs.ts';
import type { IngestPipeline } from './pipeline.ts';

export const SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type Signal = (typeof SIGNALS)[number];

/** What a request's answer says: how many items were refused and why (empty when none). */
export interface ExportResult {
  rejected: number;
  errorMessage: string;
  rejectedKey: RejectedKey;
}

/**
 * Metrics are answered, not stored: the agent CLIs send them beside their logs, and an exporter
 * that got an error would retry and complain forever. The OTLP answer for data the server will
 * not keep is partial success naming the refused count; clients must not retry it.
 */
export const METRICS_NOT_STORED =
  'Faultline stores no metrics: it reads failures and session activity from traces and logs. Set OTEL_METRICS_EXPORTER=none to stop sending them.';

const NOUN: Record<Exclude<Signal, 'metrics'>, string> = { traces: 'span(s)', logs: 'log record(s)' };

export class OtlpExport {
  constructor(
    private readonly config: Config,
    private readonly pipeline: IngestPipeline,
  ) {}

  /**
   * `body` is decompressed. Throws OtlpDecodeError (400 / INVALID_ARGUMENT) when it cannot be
   * read, BackPressureError (429/503 / RESOURCE_EXHAUSTED/UNAVAILABLE) when the database is behind.
   */
  async handle(signal: Signal, body: Uint8Array, format: OtlpFormat): Promise<ExportResult> {
    if (signal === 'metrics') {
      const points = countMetricDataPoints(body, format);
      this.pipeline.stats.metricPointsRefused += points;
      return { rejected: points, errorMessage: points > 0 ? `${points} data point(s) not stored. ${METRICS_NOT_STORED}` : '', rejectedKey: 'rejectedDataPoints' };
    }
    let spans;
    let rejected: RejectedSpan[];
    if (signal === 'logs') {
      const decoded = decodeLogsRequest(body, format);
      this.pipeline.stats.logRecordsReceived += decoded.records.length;
      spans = logRecordsToSpans(decoded.records);
      rejected = decoded.rejected;
    } else {
      ({ spans, rejected } = decodeTraceRequest(body, format));
    }
    // Enrichment yields to the event loop, so one huge request cannot stall the other clients.
    const stored = await this.pipeline.submit(await enrichSpansYielding(spans, { storePrompts: this.config.storePrompts, rules: this.config.rules }));
    this.pipeline.stats.spansRejected += rejected.length;
    const reasons = [...new Set(rejected.map((r) => r.reason)), ...stored.reasons];
    const count = rejected.length + stored.rejected;
    return {
      rejected: count,
      errorMessage: count ? `${count} ${NOUN[signal]} rejected: ${reasons.slice(0, 5).join('; ')}` : '',
      rejectedKey: signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans',
    };
  }
}
