export { decodeLogsRequest, decodeTraceRequest, type OtlpFormat } from './decode.ts';
export { countMetricDataPoints } from './count-metrics.ts';
export { decompressBody, parseContentType } from './body.ts';
export {
  contentTypeFor,
  encodeExportResponse,
  encodeRetryStatus,
  encodeStatus,
  grpcCodeForHttpStatus,
  GrpcCode,
  JSON_CONTENT_TYPE,
  PROTOBUF_CONTENT_TYPE,
  type EncodedBody,
  type ExportOutcome,
  type RejectedKey,
} from './encode.ts';
export { OtlpDecodeError, PayloadTooLargeError, UnsupportedEncodingError } from './errors.ts';
export type { AttrValue, Attributes, DecodedEvent, DecodedLogRecord, DecodedSpan, DecodeResult, LogDecodeResult, RejectedSpan } from './types.ts';
