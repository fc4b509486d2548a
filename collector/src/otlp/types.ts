/**
 * One span as the collector sees it after decoding either OTLP encoding: ids as lowercase hex,
 * times as nanosecond bigints, attributes flattened to plain JSON values.
 */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

export interface DecodedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface DecodedSpan {
  traceId: string; // 32 lowercase hex chars
  spanId: string; // 16 lowercase hex chars
  parentSpanId: string | null;
  name: string;
  /** OTLP wire SpanKind: 0 unspecified … 5 consumer */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: DecodedEvent[];
  /** 0 unset, 1 ok, 2 error */
  statusCode: 0 | 1 | 2;
  statusMessage: string | null;
  resource: Attributes;
  scopeName: string | null;
  /** Set on the spans ingest makes from OTLP log records (ingest/logs.ts). */
  log?: LogFacts;
}

/** What a log record says beyond its attributes, kept on the span made from it. */
export interface LogFacts {
  /** the event it reports (`claude_code.api_error`, …), null for a plain log line */
  eventName: string | null;
  severityNumber: number;
  severityText: string | null;
  body: AttrValue;
}

/** A span the decoder could read but must reject (bad ids, …), for OTLP partial success. */
export interface RejectedSpan {
  reason: string;
}

export interface DecodeResult {
  spans: DecodedSpan[];
  rejected: RejectedSpan[];
}

/**
 * One OTLP log record after decoding either encoding. Records of one ResourceLogs share one
 * `resource` object: treat it as read-only.
 */
export interface DecodedLogRecord {
  /** 0 when the producer did not set it (then `observedTimeUnixNano` says when) */
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** OTLP SeverityNumber: 0 unspecified, 1–4 trace … 17–20 error, 21–24 fatal */
  severityNumber: number;
  severityText: string | null;
  body: AttrValue;
  attributes: Attributes;
  /** LogRecord.event_name (field 12) */
  eventName: string | null;
  /** the span the record was emitted in, when it says (32 / 16 lowercase hex chars) */
  traceId: string | null;
  spanId: string | null;
  resource: Attributes;
  scopeName: string | null;
}

export interface LogDecodeResult {
  records: DecodedLogRecord[];
  /** records that could be read but not accepted (bad ids), for OTLP partial success */
  rejected: RejectedSpan[];
}
