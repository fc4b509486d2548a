/**
 * Malformed input: ≥ 10,000 mutated OTLP bodies (protobuf and JSON: truncated, flipped and
 * inserted bytes, wrong wire types, huge length prefixes, deep nesting, invalid ids, wrong JSON
 * types, gzip/brotli bombs and broken compression, wrong content types and encodings) against a
 * real collector process. It must answer each with a 4xx — or 200 when the mutant still decodes —
 * never a 5xx or a dropped connection, stay alive, keep its memory bounded, and still store the
 * valid spans of mixed batches (partial success with rejectedSpans).
 *
 * The PRNG is seeded (FAULTLINE_FUZZ_SEED, default below) and every failure names its case
 * number, so a failure reproduces with the same seed.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSdkSpans, withSpanContext } from '../../collector/src/otlp/test-spans.ts';
import { openPglite } from '../../collector/src/store/db.ts';
import { hex, otlpBody, otlpSpan, reportFigures, rssMiB, startCollectorProcess, tempDir, type CollectorProcess } from './support.ts';

const SEED = Number(process.env.FAULTLINE_FUZZ_SEED ?? 20_240_611);
const CASES = Number(process.env.FAULTLINE_FUZZ_CASES ?? 10_000);
const CONCURRENCY = 8;
// Memory is compared from here on: the first cases warm up the JIT, pools and PGlite's caches.
const WARMUP = Math.min(1000, Math.floor(CASES / 10));

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)], bytes: (n: number) => Uint8Array.from({ length: n }, () => int(256)) };
}
type Rng = ReturnType<typeof prng>;

interface Case {
  kind: string;
  body: Uint8Array | string;
  headers: Record<string, string>;
}

const PB = { 'content-type': 'application/x-protobuf' };
const JS = { 'content-type': 'application/json' };

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** AnyValue nested `depth` times through array_value (AnyValue.5 → ArrayValue.1 → AnyValue). */
function nestedAnyValue(depth: number): Uint8Array {
  let inner = protobuf.Writer.create().uint32((1 << 3) | 2).string('leaf').finish();
  for (let i = 0; i < depth; i++) {
    const arr = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(inner).finish();
    inner = protobuf.Writer.create().uint32((5 << 3) | 2).bytes(arr).finish();
  }
  return inner;
}

const nestedCache = new Map<number, Uint8Array>();
/** Cached: building one costs O(depth²) copies. */
function deepRequest(depth: number): Uint8Array {
  let body = nestedCache.get(depth);
  if (!body) nestedCache.set(depth, (body = requestWithAttribute(nestedAnyValue(depth))));
  return body;
}

/** A whole request whose only span carries one attribute with the given AnyValue. */
function requestWithAttribute(anyValue: Uint8Array): Uint8Array {
  const w = () => protobuf.Writer.create();
  const kv = w().uint32((1 << 3) | 2).string('deep').uint32((2 << 3) | 2).bytes(anyValue).finish();
  const span = w()
    .uint32((1 << 3) | 2).bytes(Buffer.from(hex(16), 'hex'))
    .uint32((2 << 3) | 2).bytes(Buffer.from(hex(8), 'hex'))
    .uint32((5 << 3) | 2).string('deep span')
    .uint32((7 << 3) | 1).fixed64(1)
    .uint32((8 << 3) | 1).fixed64(2)
    .uint32((9 << 3) | 2).bytes(kv)
    .finish();
  const scope = w().uint32((2 << 3) | 2).bytes(span).finish();
  const rs = w().uint32((2 << 3) | 2).bytes(scope).finish();
  return w().uint32((1 << 3) | 2).bytes(rs).finish();
}

function varint(n: bigint): Uint8Array {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return Uint8Array.from(out);
}

function jsonNested(depth: number): string {
  return '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"leaf"}' + ']}}'.repeat(depth);
}

interface Corpus {
  pb: Uint8Array;
  json: string;
  badIdPb: Uint8Array;
  bombGzip: Uint8Array;
  bombBr: Uint8Array;
}

function mutate(rng: Rng, c: Corpus, i: number): Case {
  const r = rng.int(100);
  const pos = (n: number) => rng.int(Math.max(1, n));
  if (r < 10) return { kind: 'pb-truncated', body: c.pb.slice(0, pos(c.pb.length)), headers: PB };
  if (r < 20) {
    const b = c.pb.slice();
    for (let k = 1 + rng.int(8); k > 0; k--) b[pos(b.length)] = rng.int(256);
    return { kind: 'pb-flipped', body: b, headers: PB };
  }
  if (r < 26) {
    const at = pos(c.pb.length);
    return { kind: 'pb-inserted', body: concat(c.pb.slice(0, at), rng.bytes(1 + rng.int(32)), c.pb.slice(at)), headers: PB };
  }
  if (r < 32) {
    // Keep the field number, change the wire type of a tag-looking byte.
    const b = c.pb.slice();
    const at = pos(b.length);
    b[at] = (b[at] & ~7) | rng.int(8);
    return { kind: 'pb-wire-type', body: b, headers: PB };
  }
  if (r < 37) {
    const lengths = [2n ** 31n - 1n, 2n ** 32n, 2n ** 35n, 2n ** 63n - 1n, BigInt(c.pb.length * 1000)];
    const field = rng.pick([1, 2, 3, 9, 15]);
    return { kind: 'pb-huge-length', body: concat(varint(BigInt((field << 3) | 2)), varint(rng.pick(lengths)), rng.bytes(rng.int(64))), headers: PB };
  }
  if (r < 40) return { kind: 'pb-deep-nesting', body: deepRequest(rng.pick([50, 200, 2000, 20_000])), headers: PB };
  if (r < 44) return { kind: 'pb-bad-ids', body: c.badIdPb, headers: PB };
  if (r < 47) return { kind: 'pb-garbage', body: rng.bytes(rng.int(4096)), headers: PB };
  if (r < 49) return { kind: 'pb-overlong-varint', body: concat(Uint8Array.of(0x0a), new Uint8Array(11).fill(0xff)), headers: PB };
  if (r < 57) return { kind: 'json-truncated', body: c.json.slice(0, pos(c.json.length)), headers: JS };
  if (r < 63) {
    const chars = [...c.json];
    for (let k = 1 + rng.int(6); k > 0; k--) chars[pos(chars.length)] = rng.pick(['"', '{', '}', '[', ']', ':', ',', '\\', '0', 'x', '\u0000', '\ud800', '-', 'e']);
    return { kind: 'json-flipped', body: chars.join(''), headers: JS };
  }
  if (r < 71) {
    const span = otlpSpan({ sessionId: `fuzz-${i}` }) as Record<string, unknown>;
    const wrong: [string, unknown][] = [
      ['traceId', 12345], ['traceId', 'zz'.repeat(16)], ['traceId', 'abc'], ['spanId', ''], ['spanId', '0'.repeat(16)],
      // eslint-disable-next-line no-loss-of-precision -- 1e400 is Infinity on purpose (JSON null)
      ['startTimeUnixNano', 'soon'], ['startTimeUnixNano', -1], ['endTimeUnixNano', 1e400], ['kind', 'server'], ['kind', 2 ** 40],
      ['attributes', { a: 1 }], ['attributes', [null, 1, 'x']], ['events', 'none'], ['status', []], ['name', { x: 1 }],
      ['__proto__', { polluted: true }], ['constructor', { prototype: { polluted: true } }], ['droppedAttributesCount', 'many'],
    ];
    const [key, value] = rng.pick(wrong);
    span[key] = value;
    return { kind: `json-wrong-type`, body: otlpBody([span as never]), headers: JS };
  }
  if (r < 75) {
    const shapes = ['null', '1', '"x"', 'true', '[]', '{"resourceSpans":{}}', '{"resourceSpans":[null]}', '{"resourceSpans":[{"scopeSpans":"x"}]}', '{"resourceSpans":[{"scopeSpans":[{"spans":[1,2]}]}]}', '{"__proto__":{"x":1}}', ''];
    return { kind: 'json-shape', body: rng.pick(shapes), headers: JS };
  }
  if (r < 78) {
    const span = otlpSpan({}) as unknown as { attributes: unknown[] };
    const depth = rng.pick([50, 500, 5000]);
    const body = otlpBody([span as never]).replace('"attributes":[', `"attributes":[{"key":"deep","value":${jsonNested(depth)}},`);
    return { kind: 'json-deep-nesting', body, headers: JS };
  }
  if (r < 79) return { kind: 'json-deep-array', body: '['.repeat(100_000) + ']'.repeat(100_000), headers: JS };
  if (r < 81) {
    const big = 'A'.repeat(rng.pick([10_000, 100_000, 1_000_000]));
    return { kind: 'json-huge-string', body: otlpBody([otlpSpan({ sessionId: `fuzz-${i}`, attributes: { big } })]), headers: JS };
  }
  if (r < 83) return { kind: 'gzip-bomb', body: c.bombGzip, headers: { ...PB, 'content-encoding': 'gzip' } };
  if (r < 84) return { kind: 'br-bomb', body: c.bombBr, headers: { ...JS, 'content-encoding': 'br' } };
  if (r < 87) {
    const b = zlib.gzipSync(c.pb);
    return { kind: 'gzip-broken', body: b.subarray(0, pos(b.length)), headers: { ...PB, 'content-encoding': rng.pick(['gzip', 'deflate', 'br', 'gzip, gzip']) } };
  }
  if (r < 89) return { kind: 'encoding-unknown', body: c.pb, headers: { ...PB, 'content-encoding': rng.pick(['compress', 'zstd', 'snappy', 'gzip;q=1', '\u00ff']) } };
  if (r < 91) return { kind: 'gzip-valid', body: zlib.gzipSync(Buffer.from(otlpBody([otlpSpan({ sessionId: `fuzz-${i}` })]))), headers: { ...JS, 'content-encoding': 'gzip' } };
  if (r < 95) {
    const types = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/grpc', 'application/jsonx', '', 'application/json; charset=utf-16'];
    const ct = rng.pick(types);
    return { kind: 'content-type', body: rng.next() < 0.5 ? c.pb : c.json, headers: ct ? { 'content-type': ct } : {} };
  }
  if (r < 97) return { kind: 'json-as-protobuf', body: c.json, headers: PB };
  return { kind: 'protobuf-as-json', body: c.pb, headers: JS };
}

let collector: CollectorProcess | null = null;
const dataDir = tempDir('fuzz');

afterAll(async () => {
  await collector?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('malformed OTLP input against a real collector process', () => {
  it(`answers ${CASES} mutated bodies with 4xx (or 200), never 5xx, in bounded memory, and keeps valid spans of mixed batches`, async () => {
    const rng = prng(SEED);

    const spans = await makeSdkSpans();
    const badSpans: ReadableSpan[] = [
      withSpanContext(spans[0], { traceId: 'abcdef' }),
      withSpanContext(spans[1], { traceId: '0'.repeat(32) }),
      withSpanContext(spans[2], { spanId: '0'.repeat(16) }),
    ];
    const corpus: Corpus = {
      pb: ProtobufTraceSerializer.serializeRequest(spans)!,
      json: new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!),
      badIdPb: ProtobufTraceSerializer.serializeRequest(badSpans)!,
      // 64 MiB of zeros (~64 KB on the wire): 16 × the body limit below.
      bombGzip: zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }),
      bombBr: zlib.brotliCompressSync(Buffer.alloc(64 * 1024 * 1024), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
    };

    // A 4 MiB body limit (default 64 MiB): the same code path, but each bomb costs 4 MiB of inflating, not 64.
    collector = await startCollectorProcess({ FAULTLINE_DATA_DIR: dataDir, FAULTLINE_MAX_BODY_BYTES: String(4 * 1024 * 1024) });
    const url = `${collector.url}/v1/traces`;
    const byKindStatus = new Map<string, Map<number, number>>();
    const byStatus = new Map<number, number>();
    const msByKind = new Map<string, number>();
    const bad: string[] = [];
    let rssAfterWarmup = 0;
    const rssStart = rssMiB(collector.pid);
    let peakRss = rssStart;
    const generating = performance.now();
    const cases = Array.from({ length: CASES }, (_, i) => mutate(rng, corpus, i));
    const generateMs = performance.now() - generating;
    let nextCase = 0;
    const worker = async () => {
      for (;;) {
        const i = nextCase++;
        if (i >= cases.length) return;
        const c = cases[i];
        let status = 0;
        let detail = '';
        const t0 = performance.now();
        try {
          const r = await fetch(url, { method: 'POST', headers: c.headers, body: c.body as BodyInit, signal: AbortSignal.timeout(30_000) });
          status = r.status;
          detail = status >= 500 ? await r.text() : '';
          if (status < 500) await r.arrayBuffer();
        } catch (err) {
          detail = (err as Error).message;
        }
        msByKind.set(c.kind, (msByKind.get(c.kind) ?? 0) + performance.now() - t0);
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        const m = byKindStatus.get(c.kind) ?? new Map<number, number>();
        m.set(status, (m.get(status) ?? 0) + 1);
        byKindStatus.set(c.kind, m);
        if (status !== 200 && !(status >= 400 && status < 500)) bad.push(`case ${i} (${c.kind}, seed ${SEED}): ${status} ${detail.slice(0, 200)}`);
        if (i === WARMUP) rssAfterWarmup = rssMiB(collector!.pid);
        if (i % 250 === 0) peakRss = Math.max(peakRss, rssMiB(collector!.pid));
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    const rssEnd = rssMiB(collector.pid);

    reportFigures('fuzz', {
      seed: SEED,
      cases: CASES,
      seconds: Math.round(seconds * 10) / 10,
      generateMs: Math.round(generateMs),
      byStatus: Object.fromEntries(byStatus),
      msByKind: Object.fromEntries([...msByKind].map(([k, v]) => [k, Math.round(v)])),
      byKind: Object.fromEntries([...byKindStatus].map(([k, m]) => [k, Object.fromEntries(m)])),
      rssMiB: { start: rssStart, afterWarmup: rssAfterWarmup, peak: peakRss, end: rssEnd },
    });
    expect(bad.slice(0, 20)).toEqual([]);
    expect(collector.child.exitCode).toBeNull();
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    expect(collector.output()).not.toMatch(/Unexpected error while answering/);
    // Bombs must be refused as too large, unknown encodings and content types as unsupported.
    expect([...(byKindStatus.get('gzip-bomb')?.keys() ?? [])]).toEqual([413]);
    expect([...(byKindStatus.get('encoding-unknown')?.keys() ?? [])]).toEqual([415]);
    // Memory: whatever the mutants were, the collector does not keep it.
    expect(rssEnd - rssAfterWarmup).toBeLessThan(200);

    // Mixed batches: valid spans stored, invalid ones counted as rejected, in both encodings.
    const mixedJsonIds = [hex(8), hex(8)];
    const traceId = hex(16);
    const mixedJson = otlpBody([
      otlpSpan({ traceId, spanId: mixedJsonIds[0], sessionId: 'fuzz-mixed' }),
      otlpSpan({ traceId: 'not-hex', spanId: hex(8), sessionId: 'fuzz-mixed' }),
      otlpSpan({ traceId, spanId: mixedJsonIds[1], sessionId: 'fuzz-mixed' }),
      otlpSpan({ traceId, spanId: '0'.repeat(16), sessionId: 'fuzz-mixed' }),
    ]);
    const jr = await fetch(url, { method: 'POST', headers: JS, body: mixedJson });
    expect(jr.status).toBe(200);
    expect(await jr.json()).toMatchObject({ partialSuccess: { rejectedSpans: '2' } });
    const goodPb = spans.map((s) => withSpanContext(s, { traceId: hex(16), spanId: hex(8) }));
    const mixedPb = ProtobufTraceSerializer.serializeRequest([...goodPb, ...badSpans])!;
    const pr = await fetch(url, { method: 'POST', headers: PB, body: mixedPb as BodyInit });
    expect(pr.status).toBe(200);
    const prBody = new Uint8Array(await pr.arrayBuffer());
    // ExportTraceServiceResponse.partial_success.rejected_spans (field 1 → field 1 varint).
    const reader = protobuf.Reader.create(prBody);
    reader.uint32();
    const partial = protobuf.Reader.create(reader.bytes());
    expect(partial.uint32()).toBe((1 << 3) | 0);
    expect(Number(partial.int64())).toBe(badSpans.length);

    await collector.stop();
    expect((await collector.exited).code).toBe(0);
    const store = await openPglite(dataDir);
    try {
      const json = await store.query<{ span_id: string }>(`select span_id from spans where trace_id = $1 order by span_id`, [traceId]);
      expect(json.map((r) => r.span_id)).toEqual([...mixedJsonIds].sort());
      const pbIds = goodPb.map((s) => `${s.spanContext().traceId}:${s.spanContext().spanId}`);
      const found = await store.query<{ k: string }>(`select trace_id || ':' || span_id as k from spans where trace_id || ':' || span_id = any($1::text[])`, [pbIds]);
      expect(found.length).toBe(goodPb.length);
    } finally {
      await store.close();
    }

  });
});
