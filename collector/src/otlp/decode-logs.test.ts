import { SeverityNumber } from '@opentelemetry/api-logs';
import { JsonLogsSerializer, JsonMetricsSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { countMetricDataPoints } from './count-metrics.ts';
import { decodeLogsRequest } from './decode.ts';
import { OtlpDecodeError } from './errors.ts';
import type { DecodedLogRecord } from './types.ts';

let records: ReadableLogRecord[];

/** Records made by the official logs SDK: a Claude Code event, a plain error line inside a span, a structured body. */
beforeAll(async () => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-code', 'host.arch': 'amd64' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.287');
  logger.emit({
    body: 'claude_code.api_error',
    timestamp: new Date('2026-05-01T10:00:00.123Z'),
    attributes: { 'session.id': 's-1', 'event.name': 'api_error', status_code: 429, attempt: 11, error: 'Rate limited', 'event.sequence': 7 },
  });
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 });
  logger.emit({ body: 'payment provider unreachable', severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', context: ctx, eventName: 'app.checkout.failed' });
  logger.emit({ body: { content: 'hi', role: 'user' }, severityNumber: SeverityNumber.INFO });
  await provider.forceFlush();
  records = exporter.getFinishedLogRecords();
});

function check(decoded: DecodedLogRecord[]) {
  expect(decoded).toHaveLength(3);
  const [cc, line, structured] = decoded;
  expect(cc).toMatchObject({
    timeUnixNano: 1777629600123000000n,
    severityNumber: 0,
    severityText: null,
    body: 'claude_code.api_error',
    eventName: null,
    traceId: null,
    spanId: null,
    scopeName: 'com.anthropic.claude_code.events',
  });
  expect(cc.attributes).toEqual({ 'session.id': 's-1', 'event.name': 'api_error', status_code: 429, attempt: 11, error: 'Rate limited', 'event.sequence': 7 });
  expect(cc.resource).toMatchObject({ 'service.name': 'claude-code', 'host.arch': 'amd64' });
  expect(cc.observedTimeUnixNano).toBeGreaterThan(0n);
  expect(line).toMatchObject({
    severityNumber: 17,
    severityText: 'ERROR',
    body: 'payment provider unreachable',
    eventName: 'app.checkout.failed',
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
  });
  expect(structured.body).toEqual({ content: 'hi', role: 'user' });
  // Records of one resource share its attributes object.
  expect(line.resource).toBe(cc.resource);
}

describe('decodeLogsRequest', () => {
  it('reads what the official protobuf serializer writes', () => {
    const { records: decoded, rejected } = decodeLogsRequest(ProtobufLogsSerializer.serializeRequest(records)!, 'protobuf');
    expect(rejected).toEqual([]);
    check(decoded);
  });

  it('reads what the official JSON serializer writes, to the same records', () => {
    const { records: decoded, rejected } = decodeLogsRequest(JsonLogsSerializer.serializeRequest(records)!, 'json');
    expect(rejected).toEqual([]);
    check(decoded);
  });

  it('accepts severity names and snake_case keys in JSON', () => {
    const body = JSON.stringify({
      resource_logs: [{ scope_logs: [{ log_records: [{ time_unix_nano: '1', severity_number: 'SEVERITY_NUMBER_FATAL2', body: { string_value: 'x' } }] }] }],
    });
    expect(decodeLogsRequest(new TextEncoder().encode(body), 'json').records[0]).toMatchObject({ severityNumber: 22, body: 'x', timeUnixNano: 1n });
  });

  it('refuses a record with a malformed trace id but keeps its siblings (partial success)', () => {
    const body = JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'abc', body: { stringValue: 'bad' } }, { body: { stringValue: 'good' } }] }] }],
    });
    const { records: ok, rejected } = decodeLogsRequest(new TextEncoder().encode(body), 'json');
    expect(ok.map((r) => r.body)).toEqual(['good']);
    expect(rejected).toEqual([{ reason: 'resourceLogs[0].scopeLogs[0].logRecords[0]: trace id must be 32 hex characters, got "abc"' }]);
  });

  it('answers every truncation and random mutation of a valid request with OtlpDecodeError or records, nothing else', () => {
    const proto = ProtobufLogsSerializer.serializeRequest(records)!;
    let truncations = 0;
    for (let cut = 1; cut < proto.length; cut++) {
      try {
        decodeLogsRequest(proto.subarray(0, cut), 'protobuf');
      } catch (err) {
        if (!(err instanceof OtlpDecodeError)) throw err;
        truncations++;
      }
    }
    expect(truncations).toBe(proto.length - 1);
    let seed = 0x10c5;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    let decoded = 0;
    for (let i = 0; i < 1000; i++) {
      const input = Uint8Array.from(proto);
      for (let f = 0; f < 1 + Math.floor(random() * 4); f++) input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
      for (const read of [() => decodeLogsRequest(input, 'protobuf'), () => countMetricDataPoints(input, 'protobuf')]) {
        try {
          read();
          decoded++;
        } catch (err) {
          if (!(err instanceof OtlpDecodeError)) throw new Error(`input ${i} threw ${String(err)}`, { cause: err });
        }
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });

  it('names where a truncated or mistyped body broke', () => {
    const proto = ProtobufLogsSerializer.serializeRequest(records)!;
    expect(() => decodeLogsRequest(proto.slice(0, proto.length - 5), 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => decodeLogsRequest(proto.slice(0, proto.length - 5), 'protobuf')).toThrow(/protobuf: resourceLogs\[0\]/);
    const wrongType = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 3 }] }] }] });
    expect(() => decodeLogsRequest(new TextEncoder().encode(wrongType), 'json')).toThrow(
      'json: resourceLogs[0].scopeLogs[0].logRecords[0]: severityText must be a string, got a number',
    );
    expect(() => decodeLogsRequest(new TextEncoder().encode('[]'), 'json')).toThrow(/top level must be an ExportLogsServiceRequest object/);
  });
});

class ManualReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

describe('countMetricDataPoints', () => {
  it('counts the data points of what the official metrics serializers write, in both encodings', async () => {
    // The shapes Claude Code exports: counters with attributes (one point per attribute set) and a histogram.
    const reader = new ManualReader();
    const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'claude-code' }), readers: [reader] });
    const meter = meterProvider.getMeter('com.anthropic.claude_code');
    const tokens = meter.createCounter('claude_code.token.usage');
    tokens.add(12, { type: 'input', model: 'claude-sonnet-4-5' });
    tokens.add(310, { type: 'output', model: 'claude-sonnet-4-5' });
    meter.createCounter('claude_code.session.count').add(1);
    meter.createHistogram('claude_code.request.latency').record(2841);
    meter.createObservableGauge('claude_code.queue').addCallback((r) => r.observe(3));
    const { resourceMetrics } = await reader.collect();
    expect(countMetricDataPoints(ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, 'protobuf')).toBe(5);
    expect(countMetricDataPoints(JsonMetricsSerializer.serializeRequest(resourceMetrics)!, 'json')).toBe(5);
    await meterProvider.shutdown();
  });

  it('treats an unreadable metrics body as a decode error (400 / INVALID_ARGUMENT)', () => {
    expect(() => countMetricDataPoints(new Uint8Array([0x0a, 0x05, 0x12, 0x10]), 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => countMetricDataPoints(new TextEncoder().encode('{"resourceMetrics": {}}'), 'json')).toThrow(/resourceMetrics must be an array/);
  });
});
