/**
 * OTLP/gRPC as the official OpenTelemetry gRPC exporters and a plain @grpc/grpc-js client see it:
 * traces and logs stored, metrics answered with partial success, keys in metadata, status codes
 * per the OTLP specification (INVALID_ARGUMENT for garbage, UNAUTHENTICATED, RESOURCE_EXHAUSTED
 * with RetryInfo under back-pressure), and a server that stays up through all of it.
 */
import * as grpc from '@grpc/grpc-js';
import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs/minimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTR, SPAN } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { enrichSpans } from './enrich.ts';

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const METRICS = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

class ManualReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

/** One unary call with a plain grpc-js client, the request and answer as raw bytes. */
function call(port: number, path: string, body: Uint8Array, o: { metadata?: Record<string, string>; gzip?: boolean } = {}) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), o.gzip ? { 'grpc.default_compression_algorithm': 2 } : {});
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(o.metadata ?? {})) metadata.set(k, v);
  return new Promise<{ ok: Buffer } | { error: grpc.ServiceError }>((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), metadata, (error, ok) => {
      client.close();
      resolve(error ? { error } : { ok: ok! });
    });
  });
}

async function failure(p: ReturnType<typeof call>): Promise<grpc.ServiceError> {
  const r = await p;
  if (!('error' in r)) throw new Error('expected the call to fail');
  return r.error;
}

/** google.rpc.Status → the RetryInfo delay in seconds it carries, if any. */
function retryDelaySeconds(statusBytes: Buffer): number | null {
  const read = (buf: Uint8Array, want: number): Uint8Array[] => {
    const r = protobuf.Reader.create(buf);
    const out: Uint8Array[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === want && (tag & 7) === 2) out.push(r.bytes());
      else r.skipType(tag & 7);
    }
    return out;
  };
  for (const any of read(statusBytes, 3)) {
    const [typeUrl] = read(any, 1);
    if (Buffer.from(typeUrl).toString() !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
    const [value] = read(any, 2);
    const [duration] = read(value, 1);
    const r = protobuf.Reader.create(duration);
    r.uint32();
    return Number(r.int64());
  }
  return null;
}

function officialSpans(sessionId: string): ReadableSpan[] {
  const mem = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'agent-runtime' }), spanProcessors: [new SimpleSpanProcessor(mem)] });
  provider.getTracer('t').startSpan(SPAN.status, { attributes: { [ATTR.sessionId]: sessionId, [ATTR.sessionState]: 'running' } }).end();
  return mem.getFinishedSpans() as ReadableSpan[];
}

describe.each(STORAGES)('OTLP/gRPC on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, { grpcPort: 0 });
  });
  afterAll(async () => collector?.close());

  it('stores spans and log records sent by the official gRPC exporters', async () => {
    const traceExporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${collector.grpcPort}` });
    const tracerProvider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'agent-runtime' }), spanProcessors: [new SimpleSpanProcessor(traceExporter)] });
    const span = tracerProvider.getTracer('t').startSpan('chat claude-sonnet-4-5', { attributes: { [ATTR.sessionId]: 'grpc-1', [ATTR.httpStatus]: 529, 'gen_ai.system': 'anthropic' } });
    span.recordException({ name: 'APIError', message: 'Overloaded' });
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    await tracerProvider.forceFlush();

    const loggerProvider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'agent-runtime' }),
      processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://127.0.0.1:${collector.grpcPort}` }) })],
    });
    loggerProvider.getLogger('t').emit({ eventName: 'agent.turn.started', attributes: { [ATTR.sessionId]: 'grpc-1' } });
    await loggerProvider.forceFlush();

    const rows = await collector.deps.store.query<{ name: string; span_type: string; error_code: string | null }>(
      "select name, span_type, error_code from spans where session_id = 'grpc-1' order by name",
    );
    expect(rows).toEqual([
      { name: 'agent.turn.started', span_type: 'log', error_code: null },
      // The provider comes from the older `gen_ai.system` alias: the message names it.
      { name: 'chat claude-sonnet-4-5', span_type: 'span', error_code: 'AGT-PROVIDER-OVERLOADED' },
    ]);
    const [session] = await collector.deps.store.query<{ provider: string; last_error_message: string }>("select provider, last_error_message from sessions where id = 'grpc-1'");
    expect(session.provider).toBe('anthropic');
    expect(session.last_error_message).toMatch(/^Anthropic/);
    await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown()]);
  });

  it('answers the official metrics exporter with success and partial success saying metrics are not stored', async () => {
    const reader = new ManualReader();
    const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'claude-code' }), readers: [reader] });
    meterProvider.getMeter('com.anthropic.claude_code').createCounter('claude_code.session.count').add(1, { 'session.id': 'm-1' });
    const { resourceMetrics } = await reader.collect();
    const before = collector.deps.pipeline.stats.metricPointsRefused;
    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${collector.grpcPort}` });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(resourceMetrics, resolve));
    // SUCCESS: the exporter neither retries nor reports a failure.
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(collector.deps.pipeline.stats.metricPointsRefused - before).toBe(1);

    const raw = await call(collector.grpcPort!, METRICS, ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!);
    expect('ok' in raw).toBe(true);
    const answer = ProtobufMetricsSerializer.deserializeResponse((raw as { ok: Buffer }).ok);
    expect(Number(answer.partialSuccess?.rejectedDataPoints)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/stores no metrics.*OTEL_METRICS_EXPORTER=none/);
    await Promise.all([exporter.shutdown(), meterProvider.shutdown()]);
  });

  it('answers garbage with INVALID_ARGUMENT naming the fault, and stays up', async () => {
    for (const path of [TRACES, LOGS, METRICS]) {
      const err = await failure(call(collector.grpcPort!, path, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/^protobuf: .*length \d+ exceeds remaining/);
    }
    const ok = await call(collector.grpcPort!, TRACES, ProtobufTraceSerializer.serializeRequest(officialSpans('grpc-after-garbage'))!);
    expect('ok' in ok).toBe(true);
    expect((await collector.deps.store.query("select 1 from sessions where id = 'grpc-after-garbage'")).length).toBe(1);
  });

  it('reports refused log records as partial success', async () => {
    const mem = new InMemoryLogRecordExporter();
    const p2 = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
    p2.getLogger('t').emit({ body: 'kept', attributes: { [ATTR.sessionId]: 'grpc-partial' } });
    const body = Buffer.from(ProtobufLogsSerializer.serializeRequest(mem.getFinishedLogRecords())!);
    // A second ResourceLogs whose one record has a 3-byte trace id: resource_logs{scope_logs{log_records{trace_id = 9}}}.
    const bad = Buffer.from([0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x4a, 0x03, 0x01, 0x02, 0x03]);
    const raw = await call(collector.grpcPort!, LOGS, Buffer.concat([body, bad]));
    const answer = ProtobufLogsSerializer.deserializeResponse((raw as { ok: Buffer }).ok);
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toBe('1 log record(s) rejected: resourceLogs[1].scopeLogs[0].logRecords[0]: trace id must be 16 bytes or empty, got 3');
    expect((await collector.deps.store.query("select 1 from spans where session_id = 'grpc-partial'")).length).toBe(1);
    await p2.shutdown();
  });
});

describe('OTLP/gRPC limits, keys and back-pressure', () => {
  const key = 'grpc-ingest-key-0123456789';
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { grpcPort: 0, ingestKeys: [key], maxBodyBytes: 4096, maxQueuedSpans: 100 });
  });
  afterAll(async () => collector?.close());

  it('asks for a key in metadata, refuses a wrong one, and lets the official exporter through with one', async () => {
    const body = ProtobufTraceSerializer.serializeRequest(officialSpans('grpc-key'))!;
    const missing = await failure(call(collector.grpcPort!, TRACES, body));
    expect(missing.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(missing.details).toMatch(/requires an ingest key: send Authorization: Bearer <key>/);
    expect((await failure(call(collector.grpcPort!, TRACES, body, { metadata: { authorization: 'Bearer wrong-key-000000000000' } }))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect('ok' in (await call(collector.grpcPort!, TRACES, body, { metadata: { 'x-faultline-key': key } }))).toBe(true);

    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${key}`);
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${collector.grpcPort}`, metadata });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(officialSpans('grpc-key-2'), resolve));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
  });

  it('refuses a message over FAULTLINE_MAX_BODY_BYTES after gzip, and stays up', async () => {
    const spans = officialSpans('grpc-big');
    (spans[0].attributes as Record<string, unknown>).padding = 'x'.repeat(20_000);
    const err = await failure(call(collector.grpcPort!, TRACES, ProtobufTraceSerializer.serializeRequest(spans)!, { gzip: true, metadata: { 'x-faultline-key': key } }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // grpc-js checks the size after decompression: a small gzip bomb is refused too.
    expect(err.details).toMatch(/decompresses to a size larger than 4096/);
    expect('ok' in (await call(collector.grpcPort!, TRACES, ProtobufTraceSerializer.serializeRequest(officialSpans('grpc-small'))!, { gzip: true, metadata: { 'x-faultline-key': key } }))).toBe(true);
  });

  it('answers RESOURCE_EXHAUSTED with RetryInfo while the write queue is full, then accepts again', async () => {
    const { store, pipeline } = collector.deps;
    // Hold the database so queued spans stay queued: the next request finds the queue at its limit.
    let release!: () => void;
    const held = store.transaction(() => new Promise<void>((r) => (release = r)));
    const queued = pipeline.submit(enrichSpans(Array.from({ length: 100 }, (_, i) => ({ ...officialDecodedSpan(i) }))));
    const err = await failure(call(collector.grpcPort!, TRACES, ProtobufTraceSerializer.serializeRequest(officialSpans('grpc-busy'))!, { metadata: { 'x-faultline-key': key } }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/The collector is busy: 100 spans are waiting for the database/);
    expect(retryDelaySeconds(err.metadata.get('grpc-status-details-bin')[0] as Buffer)).toBe(1);
    release();
    await held;
    await queued;
    expect('ok' in (await call(collector.grpcPort!, TRACES, ProtobufTraceSerializer.serializeRequest(officialSpans('grpc-busy'))!, { metadata: { 'x-faultline-key': key } }))).toBe(true);
  });
});

function officialDecodedSpan(i: number) {
  return {
    traceId: '6b8efff798038103d269b633813fc60c',
    spanId: (0x1000000000000 + i).toString(16).padStart(16, '0'),
    parentSpanId: null,
    name: 'queued',
    kind: 1,
    startTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    endTimeUnixNano: BigInt(Date.now()) * 1_000_000n,
    attributes: {},
    events: [],
    statusCode: 0 as const,
    statusMessage: null,
    resource: {},
    scopeName: null,
  };
}
