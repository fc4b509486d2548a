import { decodeJsonTraceRequest } from './decode-json.ts';
import { decodeJsonLogsRequest } from './decode-logs-json.ts';
import { decodeProtobufLogsRequest } from './decode-logs-protobuf.ts';
import { decodeProtobufTraceRequest } from './decode-protobuf.ts';
import { DEFAULT_OTLP_LIMITS, RequestBudget, type OtlpLimits } from './limits.ts';
import type { DecodeResult, LogDecodeResult } from './types.ts';

export type OtlpFormat = 'protobuf' | 'json';

/**
 * Decodes an OTLP/HTTP ExportTraceServiceRequest body (already decompressed).
 *
 * Throws `OtlpDecodeError` when the body cannot be read at all (answer 400). Spans that can be
 * read but not accepted (bad ids) come back in `rejected` for an OTLP partial-success answer.
 * Spans of one ResourceSpans share one `resource` object: treat it as read-only. What the limits
 * cut is in `rejected` (whole spans) and `warnings` (values, attributes, events).
 */
export function decodeTraceRequest(body: Uint8Array, format: OtlpFormat, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): DecodeResult {
  const budget = new RequestBudget(limits);
  return format === 'protobuf' ? decodeProtobufTraceRequest(body, budget) : decodeJsonTraceRequest(body, budget);
}

/** The same for an ExportLogsServiceRequest: records, the ones refused (bad ids, limits), and the cuts. */
export function decodeLogsRequest(body: Uint8Array, format: OtlpFormat, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): LogDecodeResult {
  const budget = new RequestBudget(limits);
  return format === 'protobuf' ? decodeProtobufLogsRequest(body, budget) : decodeJsonLogsRequest(body, budget);
}
