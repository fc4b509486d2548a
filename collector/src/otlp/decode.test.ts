import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs/minimal.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeTraceRequest } from './decode.ts';
import { OtlpDecodeError } from './errors.ts';
import { hrTimeToNanos, makeSdkSpans, withSpanContext } from './test-spans.ts';
import type { DecodedSpan } from './types.ts';

let sdkSpans: ReadableSpan[];
let protoBody: Uint8Array;
let jsonBody: Uint8Array;

beforeAll(async () => {
  sdkSpans = await makeSdkSpans();
  protoBody = ProtobufTraceSerializer.serializeRequest(sdkSpans)!;
  jsonBody = JsonTraceSerializer.serializeRequest(sdkSpans)!;
});

function byName(spans: DecodedSpan[], name: string): DecodedSpan {
  const found = spans.find((s) => s.name === name);
  if (!found) throw new Error(`no decoded span named ${name}`);
  return found;
}

function expectDecodeError(fn: () => unknown, message?: RegExp): OtlpDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    if (message) expect((err as Error).message).toMatch(message);
    return err as OtlpDecodeError;
  }
  throw new Error('expected an OtlpDecodeError, nothing was thrown');
}

/** Wraps `build` as a length-delimited field of the writer. */
function sub(w: protobuf.Writer, field: number, build: (w: protobuf.Writer) => void): protobuf.Writer {
  w.uint32((field << 3) | 2).fork();
  build(w);
  return w.ldelim();
}

const TRACE_ID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const SPAN_ID = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);

function minimalSpan(w: protobuf.Writer, name: string): void {
  w.uint32((1 << 3) | 2).bytes(TRACE_ID);
  w.uint32((2 << 3) | 2).bytes(SPAN_ID);
  w.uint32((5 << 3) | 2).string(name);
}

/** ExportTraceServiceRequest with one resource and one scope around the given span writers. */
function request(...spans: ((w: protobuf.Writer) => void)[]): Uint8Array {
  const w = protobuf.Writer.create();
  sub(w, 1, (rs) => sub(rs, 2, (ss) => spans.forEach((span) => sub(ss, 2, span))));
  return w.finish();
}

describe('decodeTraceRequest with payloads from the official OpenTelemetry serializers', () => {
  it('reads ids, names, kinds, times and status exactly as the SDK recorded them', () => {
    const { spans, rejected } = decodeTraceRequest(protoBody, 'protobuf');
    expect(rejected).toEqual([]);
    expect(spans).toHaveLength(sdkSpans.length);
    for (const sdk of sdkSpans) {
      const span = byName(spans, sdk.name);
      expect(span.traceId).toBe(sdk.spanContext().traceId);
      expect(span.spanId).toBe(sdk.spanContext().spanId);
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.parentSpanId).toBe(sdk.parentSpanContext?.spanId ?? null);
      expect(span.kind).toBe(sdk.kind + 1); // API kinds are 0-based, wire kinds 1-based
      expect(span.startTimeUnixNano).toBe(hrTimeToNanos(sdk.startTime));
      expect(span.endTimeUnixNano).toBe(hrTimeToNanos(sdk.endTime));
      expect(span.statusCode).toBe(sdk.status.code);
      expect(span.resource['service.name']).toBe('agent-runtime');
    }
    const tool = byName(spans, 'execute_tool web_fetch');
    expect(tool.kind).toBe(3); // CLIENT
    expect(tool.parentSpanId).toBe(byName(spans, 'invoke_agent planner').spanId);
    expect(tool.statusCode).toBe(2);
    expect(tool.statusMessage).toBe('Your credit balance is too low');
    expect(byName(spans, 'POST /v1/messages').statusCode).toBe(1);
    expect(byName(spans, 'invoke_agent planner').statusMessage).toBeNull();
  });

  it('reads attributes of every type, arrays included, and the resource and scope', () => {
    const { spans } = decodeTraceRequest(protoBody, 'protobuf');
    const turn = byName(spans, 'invoke_agent planner');
    expect(turn.attributes).toEqual({
      'session.id': 'sess-42',
      'gen_ai.agent.name': 'planner',
      'faultline.heartbeat.events': 17,
      'faultline.ratio': 0.25,
      'faultline.big': 2 ** 40,
      'faultline.retry': true,
      'faultline.tags': ['a', 'b', 'c'],
      'faultline.sizes': [1, 2, 3],
      'faultline.flags': [true, false],
      'faultline.weights': [0.5, 1.5],
      'faultline.empty': '',
    });
    expect(turn.resource).toMatchObject({ 'service.name': 'agent-runtime', 'service.version': '1.4.2', 'host.cores': 2 });
    expect(turn.scopeName).toBe('faultline.agent');
    expect(byName(spans, 'execute_tool web_fetch').scopeName).toBe('faultline.tools');
    expect(byName(spans, 'execute_tool web_fetch').attributes['http.response.status_code']).toBe(402);
  });

  it('reads the exception event recorded with span.recordException', () => {
    const { spans } = decodeTraceRequest(protoBody, 'protobuf');
    const tool = byName(spans, 'execute_tool web_fetch');
    const sdkTool = sdkSpans.find((s) => s.name === 'execute_tool web_fetch')!;
    expect(tool.events.map((e) => e.name)).toEqual(['exception', 'retry.scheduled']);
    const exception = tool.events[0];
    expect(exception.timeUnixNano).toBe(hrTimeToNanos(sdkTool.events[0].time));
    expect(exception.attributes['exception.type']).toBe('BillingError');
    expect(exception.attributes['exception.message']).toBe('Your credit balance is too low to access the API');
    expect(exception.attributes['exception.stacktrace']).toMatch(/BillingError: Your credit balance/);
    expect(tool.events[1].attributes).toEqual({ 'retry.attempt': 2 });
  });

  it('decodes the JSON encoding of the same spans to exactly the same values', () => {
    const fromProto = decodeTraceRequest(protoBody, 'protobuf');
    const fromJson = decodeTraceRequest(jsonBody, 'json');
    expect(fromJson.rejected).toEqual([]);
    expect(fromJson.spans).toEqual(fromProto.spans);
    expect(fromJson.spans.length).toBe(sdkSpans.length);
  });

  it('rejects a span with an invalid span id or short trace id while its siblings land', () => {
    const [first, second, third] = sdkSpans;
    const broken = [first, withSpanContext(second, { spanId: '0000000000000000' }), withSpanContext(third, { traceId: 'abcdef01' })];
    for (const format of ['protobuf', 'json'] as const) {
      const body = format === 'protobuf' ? ProtobufTraceSerializer.serializeRequest(broken)! : JsonTraceSerializer.serializeRequest(broken)!;
      const { spans, rejected } = decodeTraceRequest(body, format);
      expect(spans.map((s) => s.spanId)).toEqual([first.spanContext().spanId]);
      expect(rejected).toHaveLength(2);
      expect(rejected[0].reason).toMatch(/^resourceSpans\[0\]\.scopeSpans\[\d\]\.spans\[\d\] "[^"]+": span id is all zeros$/);
      expect(rejected[1].reason).toMatch(new RegExp(`"${third.name}".*trace id must be`));
    }
  });
});

describe('decodeTraceRequest on malformed protobuf', () => {
  it('throws OtlpDecodeError for every truncation of a valid request', () => {
    for (let cut = 1; cut < protoBody.length; cut++) {
      expectDecodeError(() => decodeTraceRequest(protoBody.subarray(0, cut), 'protobuf'));
    }
  });

  it('treats an empty body as an empty request', () => {
    expect(decodeTraceRequest(new Uint8Array(0), 'protobuf')).toEqual({ spans: [], rejected: [], warnings: [] });
  });

  it('names the place and the sizes when a length prefix runs past the buffer', () => {
    // resourceSpans[0].scopeSpans[0] claims a span of 2^32-1 bytes followed by 12 real bytes
    const w = protobuf.Writer.create();
    sub(w, 1, (rs) => sub(rs, 2, (ss) => ss.uint32((2 << 3) | 2).uint32(0xffffffff).bytes(new Uint8Array(11))));
    const err = expectDecodeError(() => decodeTraceRequest(w.finish(), 'protobuf'));
    expect(err.message).toMatch(/^protobuf: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: length 4294967295 exceeds remaining 12 bytes/);
    expect(err.status).toBe(400);
  });

  it('does not let a nested length escape its parent message', () => {
    // the span's name claims 20 bytes; the span holds 9 more but the buffer goes on after it
    const w = protobuf.Writer.create();
    sub(w, 1, (rs) => {
      sub(rs, 2, (ss) => sub(ss, 2, (span) => span.uint32((5 << 3) | 2).uint32(20).bytes(new Uint8Array(8))));
      rs.uint32((3 << 3) | 2).string('https://opentelemetry.io/schemas/1.40.0');
    });
    expectDecodeError(() => decodeTraceRequest(w.finish(), 'protobuf'), /spans\[0\]: length 20 exceeds remaining 9 bytes/);
  });

  it('throws on a known field sent with the wrong wire type', () => {
    const body = request((span) => {
      minimalSpan(span, 'x');
      span.uint32((7 << 3) | 0).uint32(5); // start_time_unix_nano must be fixed64
    });
    expectDecodeError(() => decodeTraceRequest(body, 'protobuf'), /Span\.start_time_unix_nano has wire type varint, expected fixed64/);
  });

  it('skips unknown fields of every wire type, including groups', () => {
    const plain = decodeTraceRequest(request((span) => minimalSpan(span, 'tool call')), 'protobuf');
    const withUnknown = request((span) => {
      span.uint32((90 << 3) | 0).uint64(2 ** 50);
      minimalSpan(span, 'tool call');
      span.uint32((91 << 3) | 1).fixed64(7);
      span.uint32((92 << 3) | 2).string('future field');
      span.uint32((93 << 3) | 5).fixed32(9);
      span.uint32((94 << 3) | 3).uint32((1 << 3) | 0).uint32(1).uint32((94 << 3) | 4);
      span.uint32((13 << 3) | 2).bytes(new Uint8Array([0x0a, 0x01, 0x00])); // a link, ignored
    });
    expect(decodeTraceRequest(withUnknown, 'protobuf')).toEqual(plain);
    expect(plain.spans[0].name).toBe('tool call');
  });

  it('throws on invalid wire types and unbalanced groups', () => {
    expectDecodeError(() => decodeTraceRequest(Uint8Array.of((1 << 3) | 7, 0), 'protobuf'), /resource_spans has wire type invalid\(7\)/);
    expectDecodeError(() => decodeTraceRequest(Uint8Array.of((9 << 3) | 6, 0), 'protobuf'), /invalid wire type 6 for field 9/);
    expectDecodeError(() => decodeTraceRequest(Uint8Array.of((2 << 3) | 4), 'protobuf'), /unexpected end-group/);
    expectDecodeError(() => decodeTraceRequest(Uint8Array.of((2 << 3) | 3, 0x08, 0x01), 'protobuf'), /group 2 is not closed/);
  });

  it('applies the scope name even when the scope follows its spans on the wire', () => {
    const w = protobuf.Writer.create();
    sub(w, 1, (rs) =>
      sub(rs, 2, (ss) => {
        sub(ss, 2, (span) => minimalSpan(span, 'early span'));
        sub(ss, 1, (scope) => scope.uint32((1 << 3) | 2).string('late.scope'));
      }),
    );
    expect(decodeTraceRequest(w.finish(), 'protobuf').spans[0].scopeName).toBe('late.scope');
  });

  it('limits attribute value nesting', () => {
    const nested = (depth: number) =>
      request((span) => {
        minimalSpan(span, 'deep');
        sub(span, 9, (kv) => {
          kv.uint32((1 << 3) | 2).string('deep');
          const open = (w: protobuf.Writer, left: number): void => {
            if (left === 0) w.uint32((1 << 3) | 2).string('bottom');
            else sub(w, 5, (arr) => sub(arr, 1, (v) => open(v, left - 1)));
          };
          sub(kv, 2, (v) => open(v, depth));
        });
      });
    const ok = decodeTraceRequest(nested(20), 'protobuf').spans[0].attributes.deep;
    expect(JSON.stringify(ok)).toBe(`${'['.repeat(20)}"bottom"${']'.repeat(20)}`);
    expectDecodeError(() => decodeTraceRequest(nested(200), 'protobuf'), /nested deeper than 32 levels/);
  });

  it('turns span problems into readable values: missing name, end before start, int64 beyond 2^53, bytes', () => {
    const body = request((span) => {
      span.uint32((1 << 3) | 2).bytes(TRACE_ID);
      span.uint32((2 << 3) | 2).bytes(SPAN_ID);
      span.uint32((7 << 3) | 1).fixed64(2_000);
      span.uint32((8 << 3) | 1).fixed64(1_000);
      sub(span, 9, (kv) => kv.uint32((1 << 3) | 2).string('big').uint32((2 << 3) | 2).fork().uint32((3 << 3) | 0).int64('9007199254740993').ldelim());
      sub(span, 9, (kv) => kv.uint32((1 << 3) | 2).string('neg').uint32((2 << 3) | 2).fork().uint32((3 << 3) | 0).int64(-5).ldelim());
      sub(span, 9, (kv) => kv.uint32((1 << 3) | 2).string('raw').uint32((2 << 3) | 2).fork().uint32((7 << 3) | 2).bytes(Uint8Array.of(1, 2, 255)).ldelim());
      sub(span, 9, (kv) => kv.uint32((1 << 3) | 2).string('unset'));
    });
    const [span] = decodeTraceRequest(body, 'protobuf').spans;
    expect(span.name).toBe('(unnamed)');
    expect(span.startTimeUnixNano).toBe(2_000n);
    expect(span.endTimeUnixNano).toBe(2_000n);
    expect(span.traceId).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(span.attributes).toEqual({ big: '9007199254740993', neg: -5, raw: 'AQL/', unset: null });
  });

  it('never throws anything but OtlpDecodeError on random or mutated input', () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      let input: Uint8Array;
      if (i % 4 === 0) {
        input = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
      } else {
        input = Uint8Array.from(protoBody);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
        if (i % 4 === 3) input = input.subarray(0, Math.floor(random() * input.length));
      }
      try {
        decodeTraceRequest(input, 'protobuf');
        decoded++;
      } catch (err) {
        if (!(err instanceof OtlpDecodeError)) throw new Error(`input ${i} threw ${String(err)}`, { cause: err });
      }
    }
    // most single-byte mutations of a valid body still decode; the loop must have exercised both paths
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(2000);
  });
});

describe('decodeTraceRequest on OTLP-JSON', () => {
  const encode = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));
  const docWith = (span: Record<string, unknown>, resourceAttributes: unknown[] = []) => ({
    resourceSpans: [{ resource: { attributes: resourceAttributes }, scopeSpans: [{ scope: { name: 'hand.written' }, spans: [span] }] }],
  });

  it('accepts int64 as strings and as numbers, ids in upper case, and ignores unknown fields', () => {
    const body = encode(
      docWith(
        {
          traceId: '5B8EFFF798038103D269B633813FC60C',
          spanId: 'EEE19B7EC3C1B174',
          parentSpanId: '',
          name: 'turn',
          kind: 2,
          startTimeUnixNano: '1544712660000000000',
          endTimeUnixNano: 1544712661000000000,
          futureField: { anything: [1, 2] },
          attributes: [
            { key: 'as.string', value: { intValue: '42' } },
            { key: 'as.number', value: { intValue: 42 } },
            { key: 'huge', value: { intValue: '9223372036854775807' } },
            { key: 'ratio', value: { doubleValue: 0.5 } },
            { key: 'not.a.number', value: { doubleValue: 'NaN' } },
            { key: 'map', value: { kvlistValue: { values: [{ key: 'inner', value: { boolValue: false } }] } } },
            { key: 'blob', value: { bytesValue: 'AQL_' } },
            { key: 'empty', value: {} },
          ],
          status: { code: 2, message: 'boom' },
        },
        [{ key: 'service.name', value: { stringValue: 'py-agent' } }],
      ),
    );
    const { spans, rejected } = decodeTraceRequest(body, 'json');
    expect(rejected).toEqual([]);
    expect(spans[0]).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: null,
      kind: 2,
      startTimeUnixNano: 1544712660000000000n,
      endTimeUnixNano: 1544712661000000000n,
      statusCode: 2,
      statusMessage: 'boom',
      resource: { 'service.name': 'py-agent' },
      scopeName: 'hand.written',
    });
    expect(spans[0].attributes).toEqual({
      'as.string': 42,
      'as.number': 42,
      huge: '9223372036854775807',
      ratio: 0.5,
      'not.a.number': 'NaN',
      map: { inner: false },
      blob: 'AQL/',
      empty: null,
    });
  });

  it('names a missing span "(unnamed)" and clamps an end before the start', () => {
    const body = encode(docWith({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', startTimeUnixNano: '50', endTimeUnixNano: '10' }));
    const [span] = decodeTraceRequest(body, 'json').spans;
    expect(span.name).toBe('(unnamed)');
    expect(span.endTimeUnixNano).toBe(50n);
  });

  it('rejects spans with malformed ids but keeps their siblings', () => {
    const ok = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'ok' };
    const doc = docWith(ok);
    doc.resourceSpans[0].scopeSpans[0].spans.push(
      { ...ok, name: 'bad hex', spanId: 'zzzzzzzzzzzzzzzz' },
      { ...ok, name: 'zero trace', traceId: '00000000000000000000000000000000' },
    );
    const { spans, rejected } = decodeTraceRequest(encode(doc), 'json');
    expect(spans.map((s) => s.name)).toEqual(['ok']);
    expect(rejected.map((r) => r.reason)).toEqual([
      'resourceSpans[0].scopeSpans[0].spans[1] "bad hex": span id must be 16 hex characters, got "zzzzzzzzzzzzzzzz"',
      'resourceSpans[0].scopeSpans[0].spans[2] "zero trace": trace id is all zeros',
    ]);
  });

  it('throws OtlpDecodeError for bodies that are not an OTLP-JSON request', () => {
    expectDecodeError(() => decodeTraceRequest(encode('x').subarray(0, 2), 'json'), /not valid JSON/);
    expectDecodeError(() => decodeTraceRequest(encode([1, 2]), 'json'), /top level must be an ExportTraceServiceRequest object, got an array/);
    expectDecodeError(() => decodeTraceRequest(encode(null), 'json'), /got null/);
    expectDecodeError(() => decodeTraceRequest(encode({ resourceSpans: 5 }), 'json'), /resourceSpans must be an array/);
    expectDecodeError(
      () => decodeTraceRequest(encode(docWith({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', startTimeUnixNano: '12:00' })), 'json'),
      /^json: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: startTimeUnixNano must be an unsigned 64-bit integer/,
    );
  });

  it('limits attribute value nesting', () => {
    const nest = (depth: number): unknown => (depth === 0 ? { stringValue: 'x' } : { arrayValue: { values: [nest(depth - 1)] } });
    const doc = (depth: number) =>
      encode(docWith({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', attributes: [{ key: 'deep', value: nest(depth) }] }));
    expect(decodeTraceRequest(doc(20), 'json').spans).toHaveLength(1);
    expectDecodeError(() => decodeTraceRequest(doc(100), 'json'), /nested deeper than 32 levels/);
  });

  it('keeps an attribute named __proto__ as data', () => {
    const body = encode(docWith({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] }));
    const [span] = decodeTraceRequest(body, 'json').spans;
    expect(Object.getPrototypeOf(span.attributes)).toBe(Object.prototype);
    expect(Object.keys(span.attributes)).toEqual(['__proto__']);
  });
});

describe('decodeTraceRequest and NUL characters', () => {
  // Postgres text and JSONB reject NUL: one such string would fail a whole write batch with 503, forever.
  it('drops NULs from names, attribute keys and values in both encodings', () => {
    const span = (name: string, key: string, value: string) => ({
      traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name, kind: 1,
      startTimeUnixNano: '1', endTimeUnixNano: '2',
      attributes: [{ key, value: { stringValue: value } }],
    });
    const json = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span('a\u0000b', 'k\u0000', 'v\u0000al\\u0000ue')] }] }] });
    const [decoded] = decodeTraceRequest(new TextEncoder().encode(json), 'json').spans;
    expect(decoded.name).toBe('ab');
    // The escaped backslash followed by "u0000" is text, not a NUL, and stays.
    expect(decoded.attributes).toEqual({ k: 'val\\u0000ue' });

    const w = protobuf.Writer.create();
    w.uint32((1 << 3) | 2).fork(); // resource_spans
    w.uint32((2 << 3) | 2).fork(); // scope_spans
    w.uint32((2 << 3) | 2).fork(); // span
    w.uint32((1 << 3) | 2).bytes(Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'));
    w.uint32((2 << 3) | 2).bytes(Buffer.from('eee19b7ec3c1b174', 'hex'));
    w.uint32((5 << 3) | 2).string('tool\u0000call');
    w.ldelim().ldelim().ldelim();
    const [fromProto] = decodeTraceRequest(w.finish(), 'protobuf').spans;
    expect(fromProto.name).toBe('toolcall');
  });
});

describe('decodeTraceRequest and unpaired surrogates', () => {
  // JSON can escape a lone UTF-16 surrogate; JSON.stringify keeps it and Postgres JSONB rejects it.
  it('turns escaped lone surrogates into U+FFFD and keeps real pairs', () => {
    const attr = (key: string, raw: string) => `{"key":"${key}","value":{"stringValue":"${raw}"}}`;
    const json = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"x","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[${[
      attr('high', 'a\\ud800b'),
      attr('low', 'a\\udc00b'),
      attr('pair', 'smile \\ud83d\\ude00'),
      attr('twice', '\\ud800\\ud83d\\ude00'),
    ].join(',')}]}]}]}]}`;
    const [span] = decodeTraceRequest(new TextEncoder().encode(json), 'json').spans;
    expect(span.attributes).toEqual({ high: 'a\ufffdb', low: 'a\ufffdb', pair: 'smile 😀', twice: '\ufffd😀' });
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (const v of Object.values(span.attributes)) expect(loneSurrogate.test(v as string)).toBe(false);
  });
});
