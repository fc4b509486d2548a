import { afterAll, describe, expect, it } from 'vitest';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { DEFAULT_OTLP_LIMITS } from '../otlp/limits.ts';
import { INLINE_BODY_BYTES, RequestPreparer, decodeRequest } from './prepare.ts';

/** Official SDK spans: sessions with turns and billing errors, every 10th one failing. */
function sdkSpans(n: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'prepare-test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('prepare-test');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('invoke_agent coder', {
      attributes: { 'session.id': `sess-${i % 50}`, 'gen_ai.provider.name': 'anthropic', 'faultline.output.text': `turn ${i}: `.padEnd(300, 'x') },
    });
    if (i % 10 === 0) {
      span.recordException({ name: 'BadRequestError', message: 'Your credit balance is too low to access the Anthropic API.' });
      span.setAttribute('http.response.status_code', 400);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
  return exporter.getFinishedSpans() as ReadableSpan[];
}

const preparers: RequestPreparer[] = [];
const preparer = (limits = DEFAULT_OTLP_LIMITS) => {
  const p = new RequestPreparer({ limits });
  preparers.push(p);
  return p;
};
afterAll(async () => Promise.all(preparers.map((p) => p.close())));

describe('RequestPreparer', () => {
  const spans = sdkSpans(3000);
  const protobuf = ProtobufTraceSerializer.serializeRequest(spans)!;
  const json = JsonTraceSerializer.serializeRequest(spans)!;

  it('decodes a big body in the worker thread to exactly what the inline path makes', async () => {
    expect(protobuf.byteLength).toBeGreaterThan(INLINE_BODY_BYTES);
    const p = preparer();
    for (const [format, body] of [['protobuf', protobuf], ['json', json]] as const) {
      const inWorker = await p.decode('traces', body.slice(), format);
      const inline = decodeRequest({ signal: 'traces', body, format, limits: DEFAULT_OTLP_LIMITS, receivedAtMs: Date.now() });
      expect(inWorker.spans, format).toHaveLength(3000);
      expect(inWorker).toEqual(inline);
      expect(inWorker.spans.filter((s) => s.statusCode === 2 && s.events[0]?.attributes['exception.message'] === 'Your credit balance is too low to access the Anthropic API.')).toHaveLength(300);
    }
  });

  it('applies the limits in the worker and reports what they cut', async () => {
    const p = preparer({ ...DEFAULT_OTLP_LIMITS, maxSpansPerRequest: 2500, maxValueBytes: 100 });
    const r = await p.decode('traces', protobuf.slice(), 'protobuf');
    expect(r.spans).toHaveLength(2500);
    expect(r.rejectedCount).toBe(500);
    expect(r.rejectReasons).toEqual(['more than 2500 spans in one request (FAULTLINE_MAX_SPANS_PER_REQUEST); send smaller batches']);
    expect(r.warnings).toEqual(['2500 string(s) cut to 100 bytes (FAULTLINE_MAX_VALUE_BYTES)']);
    expect(String(r.spans[0].attributes['faultline.output.text'])).toHaveLength(100);
  });

  it('decodes big log requests in the worker too, within the same limits', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({
      timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      severityNumber: 17,
      body: { stringValue: `API Error: 529 Overloaded ${i} `.padEnd(300, 'x') },
      attributes: [{ key: 'session.id', value: { stringValue: `sess-${i % 20}` } }],
    }));
    const body = new TextEncoder().encode(JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords: records }] }] }));
    expect(body.byteLength).toBeGreaterThan(INLINE_BODY_BYTES);
    const p = preparer({ ...DEFAULT_OTLP_LIMITS, maxSpansPerRequest: 2000 });
    const r = await p.decode('logs', body, 'json');
    expect(r.records).toBe(2000);
    expect(r.spans).toHaveLength(2000);
    expect(r.rejectedCount).toBe(1000);
    expect(r.rejectReasons[0]).toMatch(/FAULTLINE_MAX_SPANS_PER_REQUEST/);
  });
});
