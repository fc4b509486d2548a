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
}

/** A span the decoder could read but must reject (bad ids, …), for OTLP partial success. */
export interface RejectedSpan {
  reason: string;
}

export interface DecodeResult {
  spans: DecodedSpan[];
  rejected: RejectedSpan[];
  /** What the limits cut without rejecting a span (otlp/limits.ts), for the partial-success message. */
  warnings: string[];
}
