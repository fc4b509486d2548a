import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR, SPAN } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import { testConfig } from '../config.ts';
import type { RunningCollector } from '../server.ts';

type Exporter = ProtoExporter | JsonExporter;

function tracerWith(exporter: Exporter | InMemorySpanExporter, service = 'agent-runtime') {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer('ingest-test'), provider };
}

const ms = (t: number) => [Math.floor(t / 1000), (t % 1000) * 1e6] as [number, number];

async function sessionRow(c: RunningCollector, id: string) {
  const rows = await c.deps.store.query<Record<string, unknown>>(
    'select id, service, state, status_message, last_error_code, last_error_message, error_count, span_count, stuck, stuck_kind from sessions where id = $1',
    [id],
  );
  return rows[0];
}

/** Spans made by the official SDK, serialized by the official protobuf serializer (for raw-body tests). */
function officialProtobufBody(sessionId: string): { body: Uint8Array<ArrayBuffer>; spans: ReadableSpan[] } {
  const mem = new InMemorySpanExporter();
  const { tracer } = tracerWith(mem);
  const s = tracer.startSpan(SPAN.status, { attributes: { [ATTR.sessionId]: sessionId, [ATTR.sessionState]: 'running' } });
  s.end();
  const spans = mem.getFinishedSpans();
  return { body: new Uint8Array(ProtobufTraceSerializer.serializeRequest(spans as ReadableSpan[])!), spans: spans as ReadableSpan[] };
}

describe.each(STORAGES)('OTLP ingest on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    // Default thresholds for everyone; the silent-session tests set a 1 s per-session override.
    // Requests up to 20,000 spans (the bisection case); the default limit is 10,000.
    collector = await startTestCollector(storage, { sweepIntervalMs: 200, otlpLimits: { ...testConfig().otlpLimits, maxSpansPerRequest: 20_000 } });
  });
  afterAll(async () => collector?.close());

  for (const [encoding, Exporter] of [['protobuf', ProtoExporter], ['json', JsonExporter]] as const) {
    it(`stores a failing session sent by the official ${encoding} exporter with its code and friendly message`, async () => {
      const exporter = new Exporter({ url: `${collector.url}/v1/traces` });
      const { tracer, provider } = tracerWith(exporter);
      const sessionId = `billing-${encoding}`;
      const t0 = Date.now() - 500;
      const status = (state: string, message: string, at: number) =>
        tracer
          .startSpan(SPAN.status, { startTime: ms(at), attributes: { [ATTR.sessionId]: sessionId, [ATTR.sessionState]: state, [ATTR.sessionStatusMessage]: message } })
          .end(ms(at));
      status('starting', 'Creating execution environment...', t0);
      status('running', 'Working', t0 + 100);
      const turn = tracer.startSpan('invoke_agent coder', {
        startTime: ms(t0 + 200),
        attributes: { [ATTR.sessionId]: sessionId, [ATTR.genAiProvider]: 'anthropic', [ATTR.genAiModel]: 'claude-sonnet-4', [ATTR.genAiOperation]: 'invoke_agent' },
      });
      status('error', 'Your credit balance is too low', t0 + 300);
      turn.recordException({ name: 'BadRequestError', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' });
      turn.setAttribute(ATTR.httpStatus, 400);
      turn.setAttribute(ATTR.upstreamType, 'invalid_request_error');
      turn.setStatus({ code: SpanStatusCode.ERROR, message: 'credit balance is too low' });
      turn.end(ms(t0 + 400));
      await provider.forceFlush();
      await provider.shutdown();

      const row = await sessionRow(collector, sessionId);
      expect(row).toMatchObject({ state: 'error', service: 'agent-runtime', last_error_code: 'AGT-PROVIDER-BILLING', error_count: 1, span_count: 4 });
      expect(String(row.last_error_message)).toMatch(/credit|billing|spend/i);
      expect(String(row.last_error_message)).not.toContain('{provider}');
      const [err] = await collector.deps.store.query<Record<string, unknown>>('select code, category, upstream_status, upstream_type, exception_type from errors where session_id = $1', [sessionId]);
      expect(err).toMatchObject({ code: 'AGT-PROVIDER-BILLING', category: 'provider', upstream_status: 400, upstream_type: 'invalid_request_error', exception_type: 'BadRequestError' });
    });
  }

  it('classifies a plain OpenTelemetry span that carries only an exception and an HTTP status', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }), 'plain-otel-app');
    const span = tracer.startSpan('POST /v1/messages', { attributes: { [ATTR.genAiConversationId]: 'plain-1', [ATTR.httpStatus]: 529 } });
    span.recordException({ name: 'APIError', message: 'Overloaded' });
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    await provider.forceFlush();
    const [err] = await collector.deps.store.query<Record<string, unknown>>("select code, session_id from errors where session_id = 'plain-1'");
    expect(err).toMatchObject({ code: 'AGT-PROVIDER-OVERLOADED', session_id: 'plain-1' });
    // It never announced a state, so its error is the only signal: the operator sees it among the failed.
    const failed = (await (await fetch(`${collector.url}/api/sessions?failed=true&q=plain-1`)).json()) as { items: { id: string; state: string | null }[] };
    expect(failed.items).toMatchObject([{ id: 'plain-1', state: null }]);
    const overview = (await (await fetch(`${collector.url}/api/overview?window=1h`)).json()) as { sessions: { failed: number } };
    expect(overview.sessions.failed).toBeGreaterThanOrEqual(1);
  });

  it('stores a batch sent twice only once, without double-counting the session', async () => {
    const { body } = officialProtobufBody('dup-1');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
      expect(res.status).toBe(200);
    }
    const [{ n }] = await collector.deps.store.query<{ n: number }>("select count(*)::int as n from spans where session_id = 'dup-1'");
    expect(n).toBe(1);
    expect((await sessionRow(collector, 'dup-1')).span_count).toBe(1);
  });

  it('accepts gzip-compressed bodies', async () => {
    const { body } = officialProtobufBody('gzip-1');
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: new Uint8Array(gzipSync(body)),
    });
    expect(res.status).toBe(200);
    expect((await sessionRow(collector, 'gzip-1')).state).toBe('running');
  });

  it('ends in the newest state when status spans arrive out of order', async () => {
    const t0 = Date.now() - 10_000;
    const mk = (state: string, at: number) => ({
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ooo' } }] },
        scopeSpans: [{ spans: [{
          traceId: '5b8efff798038103d269b633813fc60c', spanId: (at % 1e16).toString(16).padStart(16, '1').slice(-16), name: SPAN.status, kind: 1,
          startTimeUnixNano: String(BigInt(at) * 1_000_000n), endTimeUnixNano: String(BigInt(at) * 1_000_000n),
          attributes: [
            { key: ATTR.sessionId, value: { stringValue: 'ooo-1' } },
            { key: ATTR.sessionState, value: { stringValue: state } },
          ],
        }] }],
      }],
    });
    // completed (newest) arrives first, then the older running and starting.
    for (const [state, at] of [['completed', t0 + 300], ['running', t0 + 200], ['starting', t0 + 100]] as const) {
      const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mk(state, at)) });
      expect(res.status).toBe(200);
    }
    const row = await sessionRow(collector, 'ooo-1');
    expect(row.state).toBe('completed');
    expect(row.span_count).toBe(3);
  });

  it('answers bad input with the right status and keeps serving', async () => {
    const post = (body: BodyInit, headers: Record<string, string>) => fetch(`${collector.url}/v1/traces`, { method: 'POST', headers, body });
    const { body } = officialProtobufBody('bad-input-ok');
    // Truncated protobuf and malformed JSON → 400.
    expect((await post(body.slice(0, body.length - 7), { 'content-type': 'application/x-protobuf' })).status).toBe(400);
    const badJson = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('content-type')).toContain('application/json');
    expect(((await badJson.json()) as { message: string }).message).toBeTruthy();
    // Wrong content type → 415.
    expect((await post('hello', { 'content-type': 'text/plain' })).status).toBe(415);
    // Unknown compression → 415.
    expect((await post(body, { 'content-type': 'application/x-protobuf', 'content-encoding': 'zstd' })).status).toBe(415);
    // Corrupt gzip → 400.
    expect((await post(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    expect((await post(body, { 'content-type': 'application/x-protobuf' })).status).toBe(200);
  });

  it('flags a silent running session as stuck within threshold + sweep, once, and clears it on a heartbeat', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }));
    const id = 'silent-1';
    tracer.startSpan(SPAN.status, { attributes: { [ATTR.sessionId]: id, [ATTR.sessionState]: 'running', [ATTR.sessionStuckAfterMs]: 1000 } }).end();
    await provider.forceFlush();
    const started = Date.now();
    let row = await sessionRow(collector, id);
    while (!row.stuck && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      row = await sessionRow(collector, id);
    }
    // per-session threshold 1000 ms + sweep 200 ms, with slack for a busy machine.
    expect(row).toMatchObject({ stuck: true, stuck_kind: 'running_silent', last_error_code: 'AGT-SESSION-STUCK' });
    await new Promise((r) => setTimeout(r, 600));
    const stuckErrors = await collector.deps.store.query<{ n: number }>("select count(*)::int as n from errors where session_id = $1 and code = 'AGT-SESSION-STUCK'", [id]);
    expect(stuckErrors[0].n).toBe(1);

    tracer.startSpan(SPAN.heartbeat, { attributes: { [ATTR.sessionId]: id, 'faultline.heartbeat.phase': 'tool_call' } }).end();
    await provider.forceFlush();
    row = await sessionRow(collector, id);
    expect(row.stuck).toBe(false);
    expect(row.stuck_kind).toBeNull();
  });
  it('counts a tool failure that escaped its turn once, and keeps the code on the turn', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }));
    const id = 'propagated-1';
    const turn = tracer.startSpan('invoke_agent coder', { attributes: { [ATTR.sessionId]: id } });
    const tool = tracer.startSpan('execute_tool npm_test', { attributes: { [ATTR.sessionId]: id, [ATTR.errorType]: 'AGT-TIMEOUT-CLI-EXEC', [ATTR.timeoutKind]: 'cli_exec' } });
    tool.recordException({ name: 'FaultlineTimeoutError', message: 'npm test timed out after 300 ms' });
    tool.setStatus({ code: SpanStatusCode.ERROR });
    tool.end();
    turn.setAttributes({ [ATTR.errorType]: 'AGT-TIMEOUT-CLI-EXEC', [ATTR.errorPropagated]: true });
    turn.setStatus({ code: SpanStatusCode.ERROR, message: 'npm test timed out after 300 ms' });
    turn.end();
    await provider.forceFlush();
    const errors = await collector.deps.store.query<{ code: string }>('select code from errors where session_id = $1', [id]);
    expect(errors).toEqual([{ code: 'AGT-TIMEOUT-CLI-EXEC' }]);
    expect((await sessionRow(collector, id)).error_count).toBe(1);
    const [turnRow] = await collector.deps.store.query<{ error_code: string }>("select error_code from spans where session_id = $1 and name like 'invoke_agent%'", [id]);
    expect(turnRow.error_code).toBe('AGT-TIMEOUT-CLI-EXEC');
  });

  it('stores every span it can when the database refuses one: the rest of the request and other requests land', async () => {
    // A genuine refusal from the real database (a check violation), standing for any data it cannot hold.
    await collector.deps.store.query(`alter table spans add constraint test_unstorable check (name <> 'unstorable-span')`);
    try {
      const span = (spanId: string, name: string, session: string) => ({
        traceId: '7b8efff798038103d269b633813fc60c', spanId, name, kind: 1, startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n), endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
        attributes: [{ key: ATTR.sessionId, value: { stringValue: session } }],
      });
      const body = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
      const post = (b: string) => fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b });
      const [mixed, clean] = await Promise.all([
        post(body([span('a000000000000001', 'fine-a', 'iso-a'), span('a000000000000002', 'unstorable-span', 'iso-a')])),
        post(body([span('b000000000000001', 'fine-b', 'iso-b')])),
      ]);
      expect(mixed.status).toBe(200);
      const partial = (await mixed.json()) as { partialSuccess?: { rejectedSpans: string | number; errorMessage: string } };
      expect(Number(partial.partialSuccess?.rejectedSpans)).toBe(1);
      expect(partial.partialSuccess?.errorMessage).toMatch(/a000000000000002: the database cannot store it/);
      expect(clean.status).toBe(200);
      expect(await clean.json()).toEqual({});
      const stored = await collector.deps.store.query<{ span_id: string }>("select span_id from spans where trace_id = '7b8efff798038103d269b633813fc60c' order by span_id");
      expect(stored.map((r) => r.span_id)).toEqual(['a000000000000001', 'b000000000000001']);
    } finally {
      await collector.deps.store.query('alter table spans drop constraint test_unstorable');
    }
  });

  it('finds one unstorable span among 20,000 by bisection: a few dozen transactions, not one per span', async () => {
    // A genuine refusal from the real database (a check violation), standing for any data it cannot hold.
    await collector.deps.store.query(`alter table spans add constraint test_unstorable_bisect check (name <> 'unstorable-span')`);
    try {
      const n = 20_000;
      const bad = 13_337;
      const now = String(BigInt(Date.now()) * 1_000_000n);
      const request = (traceId: string, badAt: number | null) =>
        Array.from({ length: n }, (_, i) => ({
          traceId, spanId: (0xb0000000 + i).toString(16).padStart(16, '0'), name: i === badAt ? 'unstorable-span' : `tool-${i}`,
          kind: 1, startTimeUnixNano: now, endTimeUnixNano: now, attributes: [{ key: ATTR.sessionId, value: { stringValue: `bisect-${i % 50}` } }],
        }));
      const post = (spans: unknown[]) =>
        fetch(`${collector.url}/v1/traces`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
        });
      // What the same request costs with nothing wrong in it (PGlite writes it in 1,000-span parts).
      const clean = { ...collector.deps.pipeline.stats };
      expect((await post(request('8d8efff798038103d269b633813fc60c', null))).status).toBe(200);
      const cleanTransactions = collector.deps.pipeline.stats.transactions - clean.transactions;
      const spans = request('8c8efff798038103d269b633813fc60c', bad);
      const before = { ...collector.deps.pipeline.stats };
      const res = await post(spans);
      expect(res.status).toBe(200);
      const partial = (await res.json()) as { partialSuccess?: { rejectedSpans: string | number; errorMessage: string } };
      expect(Number(partial.partialSuccess?.rejectedSpans)).toBe(1);
      expect(partial.partialSuccess?.errorMessage).toContain(`span ${spans[bad].spanId}: the database cannot store it`);
      const [{ stored }] = await collector.deps.store.query<{ stored: number }>("select count(*)::int as stored from spans where trace_id = '8c8efff798038103d269b633813fc60c'");
      expect(stored).toBe(n - 1);
      const sessions = await collector.deps.store.query<{ total: number }>("select sum(span_count)::int as total from sessions where id like 'bisect-%'");
      expect(sessions[0].total).toBe(2 * n - 1);
      // Beyond what the clean request cost: the careful retry of the refused part, then at most
      // two per halving (2·log2 n), where span-by-span took n + 1.
      const extra = collector.deps.pipeline.stats.transactions - before.transactions - cleanTransactions;
      expect(extra).toBeGreaterThan(3);
      expect(extra).toBeLessThanOrEqual(2 + 2 * Math.ceil(Math.log2(n)));
      expect(collector.deps.pipeline.stats.spansUnstorable - before.spansUnstorable).toBe(1);
    } finally {
      await collector.deps.store.query('alter table spans drop constraint test_unstorable_bisect');
    }
  });

  it('cuts long names, session ids, services and messages without splitting an emoji, and stores them', async () => {
    // Each value puts an emoji (two UTF-16 units) across its column's limit; half of it is a lone
    // surrogate, which Postgres JSON refuses and text would store as U+FFFD.
    const across = (limit: number) => `${'a'.repeat(limit - 1)}😀tail`;
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }), across(256));
    const sessionId = across(256);
    const span = tracer.startSpan(across(1024), {
      attributes: {
        [ATTR.sessionId]: sessionId, [ATTR.errorFingerprint]: across(128), [ATTR.timeoutKind]: across(64),
        [ATTR.sessionStuckAfterMs]: 9_000_000_000_000,
      },
    });
    span.recordException({ name: across(256), message: across(4000), stack: across(16_000) });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end();
    await provider.forceFlush();
    const kept = (limit: number) => 'a'.repeat(limit - 1);
    const [row] = await collector.deps.store.query<Record<string, string | number>>(
      `select s.name, s.service, s.session_id, e.fingerprint, e.timeout_kind, e.exception_type, e.technical_message, e.stacktrace, x.stuck_after_ms
       from spans s join errors e on e.span_id = s.span_id join sessions x on x.id = s.session_id where s.session_id = $1`,
      [kept(256)],
    );
    expect(row).toMatchObject({
      name: kept(1024), service: kept(256), session_id: kept(256), fingerprint: kept(128), timeout_kind: kept(64),
      exception_type: kept(256), technical_message: kept(4000), stacktrace: kept(16_000),
      // int4: the largest threshold it can hold instead of a refused write.
      stuck_after_ms: 2_147_483_647,
    });
  });

  it('bounds values bound for indexes and integer columns instead of failing the write', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }), 'svc-' + 'x'.repeat(5000));
    const span = tracer.startSpan('call', { attributes: { [ATTR.sessionId]: 'bounded-1', [ATTR.httpStatus]: 1e12, [ATTR.errorFingerprint]: 'f'.repeat(4000), [ATTR.timeoutKind]: 'k'.repeat(4000) } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end();
    await provider.forceFlush();
    const [row] = await collector.deps.store.query<{ service: string; upstream_status: number | null; fingerprint: string; timeout_kind: string }>(
      "select service, upstream_status, fingerprint, timeout_kind from errors where session_id = 'bounded-1'",
    );
    expect(row.service).toHaveLength(256);
    expect(row.upstream_status).toBeNull();
    expect(row.fingerprint).toHaveLength(128);
    expect(row.timeout_kind).toHaveLength(64);
  });

  it('lets a late runtime error replace the watchdog\'s stuck verdict', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces` }));
    const id = 'late-error-1';
    const t0 = Date.now();
    tracer.startSpan(SPAN.status, { startTime: ms(t0), attributes: { [ATTR.sessionId]: id, [ATTR.sessionState]: 'running', [ATTR.sessionStuckAfterMs]: 1000 } }).end(ms(t0));
    await provider.forceFlush();
    const deadline = Date.now() + 5000;
    while (!(await sessionRow(collector, id)).stuck && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await sessionRow(collector, id)).last_error_code).toBe('AGT-SESSION-STUCK');
    // The runtime's own error, spooled during a network problem, arrives with its original (older)
    // time — older than the session's last sign of life too, so the session stays stuck and the
    // next sweep cannot flag it again before the row is read (a newer span would clear the flag).
    const failed = tracer.startSpan(SPAN.error, { startTime: ms(t0 - 60), attributes: { [ATTR.sessionId]: id, [ATTR.errorType]: 'AGT-TIMEOUT-HEARTBEAT' } });
    failed.setStatus({ code: SpanStatusCode.ERROR, message: 'Activity heartbeat timeout' });
    failed.end(ms(t0 - 50));
    await provider.forceFlush();
    expect((await sessionRow(collector, id)).last_error_code).toBe('AGT-TIMEOUT-HEARTBEAT');
  });
});

describe('ingest keys', () => {
  let collector: RunningCollector;
  const key = 'ingest-key-0123456789abcdef';
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { ingestKeys: [key] });
  });
  afterAll(async () => collector?.close());

  it('refuses missing and wrong keys with 401 and accepts a valid one', async () => {
    const { body } = officialProtobufBody('auth-1');
    const post = (headers: Record<string, string>) =>
      fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong-key-0000000000000' })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${key}` })).status).toBe(200);
    expect((await post({ 'x-faultline-key': key })).status).toBe(200);
  });

  it('lets the official exporter through with the key as a header', async () => {
    const { tracer, provider } = tracerWith(new ProtoExporter({ url: `${collector.url}/v1/traces`, headers: { authorization: `Bearer ${key}` } }));
    tracer.startSpan(SPAN.status, { attributes: { [ATTR.sessionId]: 'auth-2', [ATTR.sessionState]: 'ready' } }).end();
    await provider.forceFlush();
    expect((await sessionRow(collector, 'auth-2'))?.state).toBe('ready');
  });
});

describe.each(STORAGES)('OTLP limits and span times at the edge on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, {
      otlpLimits: { maxSpansPerRequest: 50, maxAttributesPerSpan: 128, maxEventsPerSpan: 128, maxValueBytes: 1024, maxSpanBytes: 1024 * 1024, maxRequestBytes: 64 * 1024 * 1024 },
    });
  });
  afterAll(async () => collector?.close());

  const spanAt = (sessionId: string, i: number, startNs: bigint) => ({
    traceId: 'c'.repeat(30) + String(i).padStart(2, '0'),
    spanId: 'd'.repeat(14) + String(i).padStart(2, '0'),
    name: `work ${i}`,
    kind: 1,
    startTimeUnixNano: String(startNs),
    endTimeUnixNano: String(startNs + 5_000_000n),
    attributes: [{ key: 'session.id', value: { stringValue: sessionId } }, { key: 'note', value: { stringValue: 'n'.repeat(5000) } }],
  });
  const post = async (spans: unknown[]) => {
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } } };
  };

  it('stores the spans within the limits and answers the rest as partial success, which OTLP clients never retry', async () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const r = await post(Array.from({ length: 80 }, (_, i) => spanAt('limits-1', i, now)));
    expect(r.status).toBe(200);
    expect(r.retryAfter).toBeNull();
    expect(Number(r.body.partialSuccess?.rejectedSpans)).toBe(30);
    expect(r.body.partialSuccess?.errorMessage).toMatch(/^30 span\(s\) rejected: more than 50 spans in one request \(FAULTLINE_MAX_SPANS_PER_REQUEST\); send smaller batches\. accepted with cuts: 50 string\(s\) cut to 1024 bytes \(FAULTLINE_MAX_VALUE_BYTES\)$/);
    const [row] = await collector.deps.store.query<{ n: number; longest: number }>(
      `select count(*)::int as n, max(length(attributes->>'note'))::int as longest from spans where session_id = 'limits-1'`,
    );
    expect(row).toEqual({ n: 50, longest: 1024 });
  });

  it('clamps a span from a clock years ahead or unset to its arrival and keeps the time it was sent with', async () => {
    const before = Date.now();
    const ahead = (BigInt(before) + 365n * 86_400_000n) * 1_000_000n;
    const r = await post([spanAt('clamp-1', 90, ahead), spanAt('clamp-1', 91, 0n)]);
    expect(r.status).toBe(200);
    const rows = await collector.deps.store.query<{ name: string; start_ms: number; duration_ms: number; original: string | null }>(
      `select name, extract(epoch from start_time) * 1000 as start_ms, duration_ms, attributes->>'faultline.original_start_time_unix_nano' as original
       from spans where session_id = 'clamp-1' order by name`,
    );
    expect(rows.map((x) => x.original)).toEqual([String(ahead), '0']);
    for (const row of rows) {
      expect(Number(row.start_ms)).toBeGreaterThanOrEqual(before - 1);
      expect(Number(row.start_ms)).toBeLessThanOrEqual(Date.now() + 1);
      expect(Number(row.duration_ms)).toBe(5);
    }
    const [session] = await collector.deps.store.query<{ last_ms: number }>(`select extract(epoch from last_seen_at) * 1000 as last_ms from sessions where id = 'clamp-1'`);
    expect(Number(session.last_ms)).toBeLessThanOrEqual(Date.now() + 10);
  });
});
