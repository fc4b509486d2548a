import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { encodeExportResponse, encodeStatus, GrpcCode, grpcCodeForHttpStatus, JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE } from './encode.ts';

const bytes = (body: Uint8Array | string) => (typeof body === 'string' ? new TextEncoder().encode(body) : body);

/** google.rpc.Status read with protobufjs reflection, independent of the hand-written writer. */
const Status = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));

describe('encodeExportResponse', () => {
  it('encodes partial success the official exporter can read (protobuf)', () => {
    const { body, contentType } = encodeExportResponse({ rejectedSpans: 3, errorMessage: '3 span(s) rejected: span id is all zeros' }, 'protobuf');
    expect(contentType).toBe(PROTOBUF_CONTENT_TYPE);
    const parsed = ProtobufTraceSerializer.deserializeResponse(bytes(body));
    expect(Number(parsed.partialSuccess?.rejectedSpans)).toBe(3);
    expect(parsed.partialSuccess?.errorMessage).toBe('3 span(s) rejected: span id is all zeros');
  });

  it('encodes partial success the official exporter can read (JSON, int64 as a string)', () => {
    const { body, contentType } = encodeExportResponse({ rejectedSpans: 2, errorMessage: 'bad ids' }, 'json');
    expect(contentType).toBe(JSON_CONTENT_TYPE);
    expect(JSON.parse(body as string)).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: 'bad ids' } });
    const parsed = JsonTraceSerializer.deserializeResponse(bytes(body));
    expect(Number(parsed.partialSuccess?.rejectedSpans)).toBe(2);
  });

  it('leaves partial_success unset on full success', () => {
    const proto = encodeExportResponse({ rejectedSpans: 0 }, 'protobuf');
    expect(bytes(proto.body)).toHaveLength(0);
    expect(ProtobufTraceSerializer.deserializeResponse(bytes(proto.body)).partialSuccess).toBeUndefined();
    expect(encodeExportResponse({ rejectedSpans: 0, errorMessage: '' }, 'json').body).toBe('{}');
  });

  it('carries a warning with zero rejected spans', () => {
    const parsed = ProtobufTraceSerializer.deserializeResponse(bytes(encodeExportResponse({ rejectedSpans: 0, errorMessage: 'clock skew' }, 'protobuf').body));
    expect(parsed.partialSuccess?.errorMessage).toBe('clock skew');
    expect(Number(parsed.partialSuccess?.rejectedSpans ?? 0)).toBe(0);
  });
});

describe('encodeStatus', () => {
  it('encodes google.rpc.Status in protobuf', () => {
    const { body, contentType } = encodeStatus({ code: GrpcCode.INVALID_ARGUMENT, message: 'protobuf: request: truncated' }, 'protobuf');
    expect(contentType).toBe(PROTOBUF_CONTENT_TYPE);
    expect(Status.toObject(Status.decode(bytes(body)))).toEqual({ code: 3, message: 'protobuf: request: truncated' });
  });

  it('encodes google.rpc.Status in JSON', () => {
    const { body, contentType } = encodeStatus({ code: GrpcCode.UNAVAILABLE, message: 'storage is slow, retry later' }, 'json');
    expect(contentType).toBe(JSON_CONTENT_TYPE);
    expect(JSON.parse(body as string)).toEqual({ code: 14, message: 'storage is slow, retry later' });
  });

  it('maps HTTP statuses to the gRPC codes OTLP clients expect', () => {
    expect(grpcCodeForHttpStatus(400)).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(grpcCodeForHttpStatus(401)).toBe(GrpcCode.UNAUTHENTICATED);
    expect(grpcCodeForHttpStatus(429)).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(grpcCodeForHttpStatus(503)).toBe(GrpcCode.UNAVAILABLE);
    expect(grpcCodeForHttpStatus(500)).toBe(GrpcCode.INTERNAL);
  });
});
