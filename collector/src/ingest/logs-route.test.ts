/**
 * POST /v1/logs and /v1/metrics at the HTTP edge: the same content types, compression, keys and
 * partial-success answers as /v1/traces, read back with the official deserializers.
 */
import { gzipSync } from 'node:zlib';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { JsonLogsSerializer, JsonMetricsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTR, SPAN } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';

class ManualReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

function logsBody(sessionId: string, format: 'protobuf' | 'json') {
  const mem = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'app' }), processors: [new SimpleLogRecordProcessor({ exporter: mem })] });
  provider.getLogger('t').emit({ body: 'started', attributes: { [ATTR.sessionId]: sessionId } });
  const records = mem.getFinishedLogRecords();
  return new Uint8Array(format === 'protobuf' ? ProtobufLogsSerializer.serializeRequest(records)! : JsonLogsSerializer.serializeRequest(records)!);
}

describe('OTLP logs and metrics over HTTP', () => {
  const key = 'http-ingest-key-0123456789';
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { ingestKeys: [key] });
  });
  afterAll(async () => collector?.close());

  const post = (path: string, body: BodyInit, headers: Record<string, string>) =>
    fetch(`${collector.url}${path}`, { method: 'POST', headers: { 'x-faultline-key': key, ...headers }, body });

  it('stores gzip-compressed protobuf and JSON log records', async () => {
    const res = await post('/v1/logs', new Uint8Array(gzipSync(logsBody('http-log-1', 'protobuf'))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await post('/v1/logs', logsBody('http-log-2', 'json'), { 'content-type': 'application/json' })).status).toBe(200);
    const rows = await collector.deps.store.query<{ session_id: string; span_type: string; status_message: string }>(
      "select session_id, span_type, status_message from spans where session_id like 'http-log-%' order by session_id",
    );
    expect(rows).toEqual([
      { session_id: 'http-log-1', span_type: 'log', status_message: 'started' },
      { session_id: 'http-log-2', span_type: 'log', status_message: 'started' },
    ]);
  });

  it('answers refused log records with partial success under the logs key', async () => {
    const body = JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ spanId: '00ff', body: { stringValue: 'bad' } }, { body: { stringValue: 'ok' }, attributes: [{ key: 'session.id', value: { stringValue: 'http-log-3' } }] }] }] }],
    });
    const res = await post('/v1/logs', body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      partialSuccess: { rejectedLogRecords: '1', errorMessage: '1 log record(s) rejected: resourceLogs[0].scopeLogs[0].logRecords[0]: span id must be 16 hex characters, got "00ff"' },
    });
    expect(JsonLogsSerializer.deserializeResponse(new TextEncoder().encode(text)).partialSuccess?.rejectedLogRecords).toBe('1');
  });

  it('answers the official metrics exporters (protobuf and JSON) with success, and says metrics are not stored', async () => {
    const reader = new ManualReader();
    const meterProvider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'gemini-cli' }), readers: [reader] });
    const meter = meterProvider.getMeter('gemini-cli');
    meter.createCounter('gemini_cli.api.request.count').add(1, { model: 'gemini-2.5-pro', status_code: 429 });
    meter.createHistogram('gemini_cli.api.request.latency').record(812, { model: 'gemini-2.5-pro' });
    const { resourceMetrics } = await reader.collect();
    for (const Exporter of [ProtoMetricExporter, JsonMetricExporter]) {
      const exporter = new Exporter({ url: `${collector.url}/v1/metrics`, headers: { authorization: `Bearer ${key}` } });
      const result = await new Promise<ExportResult>((resolve) => exporter.export(resourceMetrics, resolve));
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      await exporter.shutdown();
    }
    const res = await post('/v1/metrics', new Uint8Array(JsonMetricsSerializer.serializeRequest(resourceMetrics)!), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedDataPoints).toBe('2');
    expect(answer.partialSuccess.errorMessage).toBe(
      '2 data point(s) not stored. Faultline stores no metrics: it reads failures and session activity from traces and logs. Set OTEL_METRICS_EXPORTER=none to stop sending them.',
    );
    await meterProvider.shutdown();
  });

  it('answers bad input on /v1/logs and /v1/metrics like /v1/traces: 400, 401, 413, 415', async () => {
    for (const path of ['/v1/logs', '/v1/metrics']) {
      const broken = await post(path, '{"resourceLogs": [', { 'content-type': 'application/json' });
      expect(broken.status).toBe(400);
      expect(((await broken.json()) as { message: string }).message).toMatch(/^json: body is not valid JSON/);
      expect((await post(path, 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
      const noKey = await fetch(`${collector.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(noKey.status).toBe(401);
      expect((await post(path, new Uint8Array(gzipSync(Buffer.alloc(80 * 1024 * 1024))), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(413);
    }
    expect((await post('/v1/logs', logsBody('http-log-after', 'protobuf'), { 'content-type': 'application/x-protobuf' })).status).toBe(200);
  });
});

describe('log events as signs of life', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { sweepIntervalMs: 200 });
  });
  afterAll(async () => collector?.close());

  it('clear a stuck session, like a heartbeat span would', async () => {
    const id = 'log-life-1';
    const status = {
      resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: '8b8efff798038103d269b633813fc60c', spanId: '8000000000000001', name: SPAN.status, kind: 1,
        startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n), endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
        attributes: [
          { key: ATTR.sessionId, value: { stringValue: id } },
          { key: ATTR.sessionState, value: { stringValue: 'running' } },
          { key: ATTR.sessionStuckAfterMs, value: { intValue: '1000' } },
        ],
      }] }] }],
    };
    const json = { 'content-type': 'application/json' };
    expect((await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: json, body: JSON.stringify(status) })).status).toBe(200);
    const stuck = async () => (await collector.deps.store.query<{ stuck: boolean }>('select stuck from sessions where id = $1', [id]))[0].stuck;
    const deadline = Date.now() + 10_000;
    while (!(await stuck()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await stuck()).toBe(true);
    // An agent CLI's next event (here Claude Code's api_request) says the session is alive.
    const event = {
      resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] }, scopeLogs: [{ logRecords: [{
        timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
        body: { stringValue: 'claude_code.api_request' },
        attributes: [{ key: 'session.id', value: { stringValue: id } }, { key: 'event.name', value: { stringValue: 'api_request' } }],
      }] }] }],
    };
    expect((await fetch(`${collector.url}/v1/logs`, { method: 'POST', headers: json, body: JSON.stringify(event) })).status).toBe(200);
    expect(await stuck()).toBe(false);
  });
});
