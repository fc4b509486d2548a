import { decodeJsonTraceRequest } from './decode-json.ts';
import { decodeJsonLogsRequest } from './decode-logs-json.ts';
import { decodeProtobufLogsRequest } from './decode-logs-protobuf.ts';
import { decodeProtobufTraceRequest } from './decode-protobuf.ts';
import type { DecodeResult, LogDecodeResult } from './types.ts';

export type OtlpFormat = 'protobuf' | 'json';

/**
 * Decodes an OTLP/HTTP ExportTraceServiceRequest body (already decompressed).
 *
 * Throws `OtlpDecodeError` when the body cannot be read at all (answer 400). Spans that can be
 * read but not accepted (bad ids) come back in `rejected` for an OTLP partial-success answer.
 * Spans of one ResourceSpans share one `resource` object: treat it as read-only.
 */
export function decodeTraceRequest(body: Uint8Array, format: OtlpFormat): DecodeResult {
  return format === 'protobuf' ? decodeProtobufTraceRequest(body) : decodeJsonTraceRequest(body);
}

/** The same for an ExportLogsServiceRequest: records, and the ones refused for bad ids. */
export function decodeLogsRequest(body: Uint8Array, format: OtlpFormat): LogDecodeResult {
  return format === 'protobuf' ? decodeProtobufLogsRequest(body) : decodeJsonLogsRequest(body);
}
