import { decodeJsonTraceRequest } from './decode-json.ts';
import { decodeProtobufTraceRequest } from './decode-protobuf.ts';
import type { DecodeResult } from './types.ts';

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
