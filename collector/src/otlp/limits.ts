/**
 * Per-request limits of OTLP ingest, in the spec's terms (spans, attributes, events, string bytes),
 * shared by every OTLP decoder (traces, logs; HTTP and gRPC). What exceeds them is cut and reported
 * in the OTLP partial-success answer — never a retryable status, since the same request could never
 * succeed. The budgets count bytes *as stored* (the JSON the write sends, the resource once per
 * span), not wire bytes: 1 protobuf byte can become 6 JSON bytes (`\u0001`), and one shared
 * resource is written once per span.
 */

export interface OtlpLimits {
  /** Spans kept per request; the rest are rejected unread. */
  maxSpansPerRequest: number;
  /** Attributes kept per span, event, resource, and entries per array or map value; the first ones win (as in the OTel SDKs). */
  maxAttributesPerSpan: number;
  /** Events kept per span; the last ones win (an `exception` event is usually last). */
  maxEventsPerSpan: number;
  /** One string (value, key, name, status message), in UTF-8 bytes; longer ones are cut at a character boundary. */
  maxValueBytes: number;
  /** One span as stored; a span over it is rejected. */
  maxSpanBytes: number;
  /** All spans of one request as stored; the spans past it are rejected. */
  maxRequestBytes: number;
}

export const DEFAULT_OTLP_LIMITS: OtlpLimits = {
  maxSpansPerRequest: 10_000,
  maxAttributesPerSpan: 128,
  maxEventsPerSpan: 128,
  maxValueBytes: 64 * 1024,
  maxSpanBytes: 1024 * 1024,
  maxRequestBytes: 64 * 1024 * 1024,
};

/** The environment variable behind each limit, named in the answers so a sender knows what to change. */
export const LIMIT_VARIABLES: Record<keyof OtlpLimits, string> = {
  maxSpansPerRequest: 'FAULTLINE_MAX_SPANS_PER_REQUEST',
  maxAttributesPerSpan: 'FAULTLINE_MAX_ATTRIBUTES_PER_SPAN',
  maxEventsPerSpan: 'FAULTLINE_MAX_EVENTS_PER_SPAN',
  maxValueBytes: 'FAULTLINE_MAX_VALUE_BYTES',
  maxSpanBytes: 'FAULTLINE_MAX_SPAN_BYTES',
  maxRequestBytes: 'FAULTLINE_MAX_REQUEST_BYTES',
};

/** Stored cost of a number, boolean or null, and the punctuation around a key or an element. */
const SCALAR_BYTES = 8;
const ENTRY_BYTES = 4;
/** A span row's fixed columns (ids, times, kind, status, names of the JSON fields). */
const SPAN_ROW_BYTES = 200;
// What JSON escapes: control characters are the point of these patterns.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\]/;
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE_ALL = /[\u0000-\u001f"\\]/g;

/** JSON bytes of a string already cut to the value limit: its UTF-8 length, quotes, and escapes. */
export function storedStringBytes(s: string, utf8Bytes: number): number {
  // A control character becomes `\u00XX` (5 more bytes); `"` and `\` one more each: 5 is the bound.
  if (!NEEDS_ESCAPE.test(s)) return utf8Bytes + 2;
  return utf8Bytes + 2 + 5 * (s.match(NEEDS_ESCAPE_ALL)?.length ?? 0);
}

/** Where a cut may end a UTF-8 byte range: never inside a character (so never half a surrogate pair). */
export function utf8CutEnd(buf: Uint8Array, start: number, end: number, maxBytes: number): number {
  if (end - start <= maxBytes) return end;
  let cut = start + maxBytes;
  while (cut > start && (buf[cut] & 0xc0) === 0x80) cut--;
  return cut;
}

/** A JS string cut to `maxBytes` of UTF-8 at a character boundary, with its UTF-8 length. */
export function cutString(s: string, maxBytes: number): { value: string; bytes: number; cut: boolean } {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: most strings need no encoding to know they fit.
  if (s.length * 3 <= maxBytes) return { value: s, bytes: Buffer.byteLength(s), cut: false };
  const bytes = Buffer.byteLength(s);
  if (bytes <= maxBytes) return { value: s, bytes, cut: false };
  const buf = Buffer.from(s, 'utf8');
  const end = utf8CutEnd(buf, 0, buf.length, maxBytes);
  return { value: buf.toString('utf8', 0, end), bytes: end, cut: true };
}

/** Thrown inside a decoder when one span outgrows maxSpanBytes; the decoder skips to the span's end. */
export class SpanTooLargeError extends Error {}

/**
 * The running account of one request while it is decoded: the decoder charges every string and
 * scalar it keeps, and asks before each span, attribute and event whether there is room.
 */
export class RequestBudget {
  /** Stored bytes of the current span so far (its resource included). */
  spanBytes = 0;
  requestBytes = 0;
  spans = 0;
  valuesCut = 0;
  attributesDropped = 0;
  eventsDropped = 0;
  /** Set once the request budget or span count is used up: every later span is rejected unread. */
  full: string | null = null;

  constructor(readonly limits: OtlpLimits = DEFAULT_OTLP_LIMITS) {}

  /** Before a span is read: null if it may be, else why it is rejected. */
  admitSpan(resourceBytes: number): string | null {
    if (this.full !== null) return this.full;
    if (this.spans >= this.limits.maxSpansPerRequest) {
      this.full = `more than ${this.limits.maxSpansPerRequest} spans in one request (${LIMIT_VARIABLES.maxSpansPerRequest}); send smaller batches`;
      return this.full;
    }
    this.spanBytes = resourceBytes + SPAN_ROW_BYTES;
    return null;
  }

  /** After a span was read: null if it fits the request, else why it (and every later one) is rejected. */
  commitSpan(): string | null {
    if (this.requestBytes + this.spanBytes > this.limits.maxRequestBytes) {
      this.full = `the request is larger than ${this.limits.maxRequestBytes} bytes as stored (${LIMIT_VARIABLES.maxRequestBytes}); send smaller batches`;
      return this.full;
    }
    this.requestBytes += this.spanBytes;
    this.spans++;
    return null;
  }

  /** Charge stored bytes to the current span; throws SpanTooLargeError past maxSpanBytes. */
  charge(bytes: number): void {
    this.spanBytes += bytes;
    if (this.spanBytes > this.limits.maxSpanBytes) throw new SpanTooLargeError(this.spanTooLarge());
  }

  chargeScalar(): void {
    this.charge(SCALAR_BYTES);
  }

  chargeString(s: string, utf8Bytes: number): void {
    this.charge(storedStringBytes(s, utf8Bytes) + ENTRY_BYTES);
  }

  spanTooLarge(): string {
    return `span is larger than ${this.limits.maxSpanBytes} bytes as stored (${LIMIT_VARIABLES.maxSpanBytes})`;
  }

  /** What was cut but not rejected, for the partial-success message (OTLP: a warning with rejected 0). */
  warnings(): string[] {
    const w: string[] = [];
    const l = this.limits;
    if (this.valuesCut) w.push(`${this.valuesCut} string(s) cut to ${l.maxValueBytes} bytes (${LIMIT_VARIABLES.maxValueBytes})`);
    if (this.attributesDropped) {
      w.push(`${this.attributesDropped} attribute(s) or value entries past ${l.maxAttributesPerSpan} per span dropped (${LIMIT_VARIABLES.maxAttributesPerSpan})`);
    }
    if (this.eventsDropped) w.push(`${this.eventsDropped} oldest event(s) past ${l.maxEventsPerSpan} per span dropped (${LIMIT_VARIABLES.maxEventsPerSpan})`);
    return w;
  }
}
