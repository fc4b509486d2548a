import type { AttrValue, Attributes, DecodedEvent, DecodeResult } from './types.ts';

/** Deeper AnyValue nesting than this is not telemetry but an attack on the decoder's stack. */
export const MAX_ANY_VALUE_DEPTH = 32;

/** Where the decoder is, kept as numbers on the hot path and turned into words only on failure. */
export interface Position {
  resourceSpans: number;
  scopeSpans: number;
  spans: number;
  /** finer place inside the current span/scope/resource, e.g. "events[2]" */
  detail: string;
  /** what the three levels are called in this signal's messages */
  labels: PositionLabels;
}

export type PositionLabels = readonly [resource: string, scope: string, item: string];
export const SPAN_LABELS: PositionLabels = ['resourceSpans', 'scopeSpans', 'spans'];
export const LOG_LABELS: PositionLabels = ['resourceLogs', 'scopeLogs', 'logRecords'];
export const METRIC_LABELS: PositionLabels = ['resourceMetrics', 'scopeMetrics', 'metrics'];

export function newPosition(labels: PositionLabels = SPAN_LABELS): Position {
  return { resourceSpans: -1, scopeSpans: -1, spans: -1, detail: '', labels };
}

export function describePosition(p: Position): string {
  const [resource, scope, item] = p.labels;
  let s = 'request';
  if (p.resourceSpans >= 0) {
    s = `${resource}[${p.resourceSpans}]`;
    if (p.scopeSpans >= 0) {
      s += `.${scope}[${p.scopeSpans}]`;
      if (p.spans >= 0) s += `.${item}[${p.spans}]`;
    }
  }
  return p.detail ? `${s}.${p.detail}` : s;
}

/** Plain-object assignment that cannot be turned into a prototype change by a key named "__proto__". */
export function setAttribute(target: Attributes, key: string, value: AttrValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** NaN and ±Infinity have no JSON form; keep them visible as the strings proto3 JSON uses. */
export function doubleAttribute(d: number): number | string {
  if (Number.isFinite(d)) return d;
  return Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity';
}

/**
 * Per-span checks shared by both encodings. Ids arrive already converted to lowercase hex (or
 * with a problem description); an invalid span goes to `rejected` so its siblings still land.
 */
export function acceptSpan(
  result: DecodeResult,
  where: Position,
  idProblem: string | null,
  traceId: string,
  spanId: string,
  parentSpanId: string | null,
  name: string,
  kind: number,
  startTimeUnixNano: bigint,
  endTimeUnixNano: bigint,
  attributes: Attributes,
  events: DecodedEvent[],
  statusCode: number,
  statusMessage: string,
  resource: Attributes,
): void {
  if (idProblem !== null) {
    const label = name ? ` "${name.length > 80 ? `${name.slice(0, 80)}…` : name}"` : '';
    result.rejected.push({ reason: `${describePosition(where)}${label}: ${idProblem}` });
    return;
  }
  result.spans.push({
    traceId,
    spanId,
    parentSpanId,
    name: name || '(unnamed)',
    // proto3 enums are open; a kind/status from a newer spec version is read as "unspecified/unset"
    kind: kind >= 0 && kind <= 5 ? kind : 0,
    startTimeUnixNano,
    // a clock that went backwards must not produce a negative duration downstream
    endTimeUnixNano: endTimeUnixNano < startTimeUnixNano ? startTimeUnixNano : endTimeUnixNano,
    attributes,
    events,
    statusCode: statusCode === 1 || statusCode === 2 ? statusCode : 0,
    statusMessage: statusMessage || null,
    resource,
    scopeName: null,
  });
}

export const ZERO_TRACE_ID = '00000000000000000000000000000000';
export const ZERO_SPAN_ID = '0000000000000000';
