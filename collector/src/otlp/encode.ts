import protobuf from 'protobufjs/minimal.js';
import type { OtlpFormat } from './decode.ts';

/** Content types of OTLP/HTTP answers; the response must use the request's content type. */
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
export const JSON_CONTENT_TYPE = 'application/json';

export interface EncodedBody {
  contentType: string;
  /** bytes for protobuf, text for JSON (both accepted by Hono's `c.body`) */
  body: Uint8Array | string;
}

export interface ExportOutcome {
  rejectedSpans: number;
  /** English, for the sender's developer; empty when there is nothing to say */
  errorMessage?: string;
}

export function contentTypeFor(format: OtlpFormat): string {
  return format === 'protobuf' ? PROTOBUF_CONTENT_TYPE : JSON_CONTENT_TYPE;
}

/** partial_success's count field in OTLP-JSON, per signal (the protobuf field number is 1 for all). */
export type RejectedKey = 'rejectedSpans' | 'rejectedLogRecords' | 'rejectedDataPoints';

/**
 * Export{Trace,Logs,Metrics}ServiceResponse. Full success leaves partial_success unset (empty
 * protobuf body, `{}` in JSON); rejected items or a warning message fill partial_success
 * {rejected_<items> = 1, error_message = 2} — an answer the client must not retry.
 */
export function encodeExportResponse(outcome: ExportOutcome, format: OtlpFormat, rejectedKey: RejectedKey = 'rejectedSpans'): EncodedBody {
  const rejected = Math.max(0, Math.trunc(outcome.rejectedSpans));
  const message = outcome.errorMessage ?? '';
  const partial = rejected > 0 || message !== '';
  if (format === 'json') {
    if (!partial) return { contentType: JSON_CONTENT_TYPE, body: '{}' };
    const partialSuccess: Record<string, string> = {};
    if (rejected > 0) partialSuccess[rejectedKey] = String(rejected); // int64 → decimal string in OTLP-JSON
    if (message) partialSuccess.errorMessage = message;
    return { contentType: JSON_CONTENT_TYPE, body: JSON.stringify({ partialSuccess }) };
  }
  const w = protobuf.Writer.create();
  if (partial) {
    w.uint32((1 << 3) | 2).fork();
    if (rejected > 0) w.uint32((1 << 3) | 0).int64(rejected);
    if (message) w.uint32((2 << 3) | 2).string(message);
    w.ldelim();
  }
  return { contentType: PROTOBUF_CONTENT_TYPE, body: w.finish() };
}

/** gRPC status codes used in google.rpc.Status bodies of OTLP/HTTP error answers. */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  UNIMPLEMENTED: 12,
} as const;

/** The gRPC code matching an HTTP error status (the mapping the OpenTelemetry Collector uses). */
export function grpcCodeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return GrpcCode.INVALID_ARGUMENT;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
    case 405:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return status >= 500 ? GrpcCode.INTERNAL : GrpcCode.INVALID_ARGUMENT;
  }
}

/** google.rpc.Status{code int32 = 1, message string = 2}: the body of every OTLP/HTTP 4xx/5xx answer. */
export function encodeStatus(status: { code: number; message: string }, format: OtlpFormat): EncodedBody {
  const code = Math.trunc(status.code) | 0;
  if (format === 'json') {
    const out: { code?: number; message?: string } = {};
    if (code !== 0) out.code = code;
    if (status.message) out.message = status.message;
    return { contentType: JSON_CONTENT_TYPE, body: JSON.stringify(out) };
  }
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32((1 << 3) | 0).int32(code);
  if (status.message) w.uint32((2 << 3) | 2).string(status.message);
  return { contentType: PROTOBUF_CONTENT_TYPE, body: w.finish() };
}

/**
 * google.rpc.Status{code 1, message 2, details 3} carrying one google.rpc.RetryInfo{retry_delay 1:
 * Duration{seconds 1}} as an Any{type_url 1, value 2}: the `grpc-status-details-bin` trailer with
 * which an OTLP/gRPC server tells a client it may retry RESOURCE_EXHAUSTED, and after how long.
 */
export function encodeRetryStatus(code: number, message: string, retryAfterSeconds: number): Uint8Array {
  const retryInfo = protobuf.Writer.create();
  retryInfo.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 0).int64(Math.max(0, Math.ceil(retryAfterSeconds))).ldelim();
  const w = protobuf.Writer.create();
  if (code !== 0) w.uint32((1 << 3) | 0).int32(code);
  if (message) w.uint32((2 << 3) | 2).string(message);
  w.uint32((3 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string('type.googleapis.com/google.rpc.RetryInfo');
  w.uint32((2 << 3) | 2).bytes(retryInfo.finish());
  w.ldelim();
  return w.finish();
}
