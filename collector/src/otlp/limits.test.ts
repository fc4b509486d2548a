import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeTraceRequest, type OtlpFormat } from './decode.ts';
import { cutString, DEFAULT_OTLP_LIMITS, type OtlpLimits } from './limits.ts';

/**
 * Spans from the official SDK with its own limits lifted (it caps at 128 attributes and events by
 * default), so the collector's limits are what is tested.
 */
function sdkSpans(build: (tracer: ReturnType<BasicTracerProvider['getTracer']>) => void, resource: Attributes = { 'service.name': 'limits' }): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanLimits: { attributeCountLimit: 100_000, eventCountLimit: 100_000 },
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  build(provider.getTracer('limits-test'));
  return exporter.getFinishedSpans() as ReadableSpan[];
}

const bodies = (spans: ReadableSpan[]): [OtlpFormat, Uint8Array][] => [
  ['protobuf', ProtobufTraceSerializer.serializeRequest(spans)!],
  ['json', JsonTraceSerializer.serializeRequest(spans)!],
];

const limits = (overrides: Partial<OtlpLimits>): OtlpLimits => ({ ...DEFAULT_OTLP_LIMITS, ...overrides });

describe('OTLP limits while decoding', () => {
  it('keeps the first spans up to the per-request count and rejects the rest, naming the variable', () => {
    const spans = sdkSpans((t) => {
      for (let i = 0; i < 8; i++) t.startSpan(`work ${i}`).end();
    });
    for (const [format, body] of bodies(spans)) {
      const r = decodeTraceRequest(body, format, limits({ maxSpansPerRequest: 5 }));
      expect(r.spans.map((s) => s.name), format).toEqual(['work 0', 'work 1', 'work 2', 'work 3', 'work 4']);
      expect(r.rejected).toHaveLength(3);
      expect(r.rejected[0].reason).toMatch(/more than 5 spans in one request \(FAULTLINE_MAX_SPANS_PER_REQUEST\)/);
    }
  });

  it('keeps the first attributes per span, event, resource and array, and says how many it dropped', () => {
    const many: Attributes = {};
    for (let i = 0; i < 200; i++) many[`a${String(i).padStart(3, '0')}`] = i;
    const spans = sdkSpans(
      (t) => {
        const s = t.startSpan('wide', { attributes: { ...many, list: Array.from({ length: 150 }, (_, i) => i) } });
        s.addEvent('exception', many);
        s.end();
      },
      { 'service.name': 'limits', ...many },
    );
    for (const [format, body] of bodies(spans)) {
      const r = decodeTraceRequest(body, format, limits({ maxAttributesPerSpan: 128 }));
      const [span] = r.spans;
      expect(Object.keys(span.attributes), format).toHaveLength(128);
      expect(span.attributes.a000).toBe(0);
      expect(span.attributes.a127).toBe(127);
      expect(span.attributes.a128).toBeUndefined();
      expect(Object.keys(span.events[0].attributes)).toHaveLength(128);
      expect(Object.keys(span.resource)).toHaveLength(128);
      // span 73 (72 a-keys + list) + resource 73 (200 a-keys + service.name); the SDK itself cut the event's to 128
      expect(r.warnings.join('; ')).toMatch(/^146 attribute\(s\) or value entries past 128 per span dropped \(FAULTLINE_MAX_ATTRIBUTES_PER_SPAN\)$/);
    }
    const arrays = sdkSpans((t) => t.startSpan('list', { attributes: { list: Array.from({ length: 150 }, (_, i) => i) } }).end());
    for (const [format, body] of bodies(arrays)) {
      const r = decodeTraceRequest(body, format, limits({ maxAttributesPerSpan: 100 }));
      expect(r.spans[0].attributes.list, format).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
  });

  it('keeps the last events, where a recorded exception is', () => {
    const spans = sdkSpans((t) => {
      const s = t.startSpan('chatty');
      for (let i = 0; i < 10; i++) s.addEvent(`progress ${i}`);
      s.recordException(new Error('provider overloaded'));
      s.end();
    });
    for (const [format, body] of bodies(spans)) {
      const r = decodeTraceRequest(body, format, limits({ maxEventsPerSpan: 3 }));
      expect(r.spans[0].events.map((e) => e.name), format).toEqual(['progress 8', 'progress 9', 'exception']);
      expect(r.spans[0].events[2].attributes['exception.message']).toBe('provider overloaded');
      expect(r.warnings).toEqual(['8 oldest event(s) past 3 per span dropped (FAULTLINE_MAX_EVENTS_PER_SPAN)']);
    }
  });

  it('cuts long strings at a character boundary, never inside an emoji or a multi-byte letter', () => {
    const spans = sdkSpans((t) =>
      t.startSpan('é'.repeat(100), { attributes: { emoji: '😀'.repeat(30), ascii: 'x'.repeat(100), short: 'ok' } }).end(),
    );
    for (const [format, body] of bodies(spans)) {
      const r = decodeTraceRequest(body, format, limits({ maxValueBytes: 10 }));
      const [span] = r.spans;
      expect(span.name, format).toBe('ééééé');
      expect(span.attributes.emoji).toBe('😀😀');
      expect(span.attributes.ascii).toBe('x'.repeat(10));
      expect(span.attributes.short).toBe('ok');
      // name, emoji, ascii, and at this tiny limit also the key `service.name` and the scope name `limits-test`
      expect(r.warnings).toEqual(['5 string(s) cut to 10 bytes (FAULTLINE_MAX_VALUE_BYTES)']);
    }
    expect(cutString('a😀', 4)).toEqual({ value: 'a', bytes: 1, cut: true });
  });

  it('rejects a span larger than the span limit as stored and keeps its siblings', () => {
    const spans = sdkSpans((t) => {
      t.startSpan('small before').end();
      const attrs: Attributes = {};
      for (let i = 0; i < 40; i++) attrs[`blob.${i}`] = 'y'.repeat(60_000);
      t.startSpan('huge', { attributes: attrs }).end();
      t.startSpan('small after').end();
    });
    for (const [format, body] of bodies(spans)) {
      const r = decodeTraceRequest(body, format, limits({ maxSpanBytes: 1024 * 1024 }));
      expect(r.spans.map((s) => s.name), format).toEqual(['small before', 'small after']);
      expect(r.rejected).toHaveLength(1);
      expect(r.rejected[0].reason).toMatch(/spans\[1\]: span is larger than 1048576 bytes as stored \(FAULTLINE_MAX_SPAN_BYTES\)/);
    }
  });

  it('counts JSON escapes and the resource written with every span against the request budget', () => {
    // 4 KB of control characters: 4 KB on the wire, ~24 KB as JSON text (each one is `\u0001`).
    const escapes = sdkSpans((t) => {
      for (let i = 0; i < 10; i++) t.startSpan(`ctl ${i}`, { attributes: { raw: '\u0001'.repeat(4000) } }).end();
    });
    for (const [format, body] of bodies(escapes)) {
      const r = decodeTraceRequest(body, format, limits({ maxRequestBytes: 100_000 }));
      expect(r.spans.length, format).toBe(4);
      expect(r.rejected).toHaveLength(6);
      expect(r.rejected[0].reason).toMatch(/larger than 100000 bytes as stored \(FAULTLINE_MAX_REQUEST_BYTES\)/);
    }
    // One 20 KB resource attribute, sent once, stored with each of the 10 spans.
    const shared = sdkSpans(
      (t) => {
        for (let i = 0; i < 10; i++) t.startSpan(`res ${i}`).end();
      },
      { 'service.name': 'limits', 'process.command_line': 'z'.repeat(20_000) },
    );
    for (const [format, body] of bodies(shared)) {
      const r = decodeTraceRequest(body, format, limits({ maxRequestBytes: 100_000 }));
      expect(r.spans.length, format).toBe(4);
    }
  });

  it('skips the spans past the count without building them', () => {
    const spans = sdkSpans((t) => {
      for (let i = 0; i < 50_000; i++) t.startSpan('bulk', { attributes: { i } }).end();
    });
    const body = ProtobufTraceSerializer.serializeRequest(spans)!;
    const r = decodeTraceRequest(body, 'protobuf', limits({ maxSpansPerRequest: 1000 }));
    expect(r.spans).toHaveLength(1000);
    expect(r.rejected).toHaveLength(49_000);
    expect(new Set(r.rejected.map((x) => x.reason)).size).toBe(1);
  });
});
