import { afterEach, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR, SPAN } from '@faultline/schema';
import { decodeTraceRequest } from '../otlp/index.ts';
import { enrichSpans, type EnrichedSpan } from '../ingest/enrich.ts';
import { STORAGES } from '../testing.ts';
import type { Store } from './db.ts';
import { ERROR_COLUMNS, SESSION_COLUMNS, SPAN_COLUMNS, writeBatch, writeNewBatch } from './write-batch.ts';

/** Spans of one session made by the official SDK, through the official serializer and our decoder. */
function sessionSpans(sessionId: string, count: number, t0 = Date.now() - 60_000): EnrichedSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'agent-runtime' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('write-batch-test');
  const at = (ms: number) => [Math.floor(ms / 1000), (ms % 1000) * 1e6] as [number, number];
  tracer.startSpan(SPAN.status, { startTime: at(t0), attributes: { [ATTR.sessionId]: sessionId, [ATTR.sessionState]: 'running' } }).end(at(t0));
  for (let i = 1; i < count; i++) {
    const span = tracer.startSpan(`execute_tool step-${i}`, { startTime: at(t0 + i * 10), attributes: { [ATTR.sessionId]: sessionId } });
    if (i % 10 === 0) {
      span.recordException({ name: 'RateLimitError', message: 'Rate limit exceeded: 40000 input tokens per minute' });
      span.setAttribute(ATTR.httpStatus, 429);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(at(t0 + i * 10 + 5));
  }
  const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans() as ReadableSpan[])!;
  return enrichSpans(decodeTraceRequest(body, 'protobuf').spans);
}

async function session(store: Store, id: string) {
  const [row] = await store.query<{ span_count: number; error_count: number; state: string }>('select span_count, error_count, state from sessions where id = $1', [id]);
  return row;
}

describe.each(STORAGES)('writeBatch on $name', (storage) => {
  let store: Store | undefined;
  afterEach(async () => store?.close());

  it('stores only the new spans of a batch that repeats stored ones, and counts each span and error once', async () => {
    store = await storage.create();
    const spans = sessionSpans('wb-repeat', 40);
    const first = await store.transaction((tx) => writeBatch(tx, spans.slice(0, 25)));
    expect(first.inserted).toHaveLength(25);
    // A client retry that overlaps what was stored: COPY refuses the duplicates, the fallback skips them.
    const again = await store.transaction((tx) => writeBatch(tx, spans));
    expect(again.inserted.map((s) => s.span.spanId)).toEqual(spans.slice(25).map((s) => s.span.spanId));
    expect(again.newErrors).toHaveLength(1);
    const none = await store.transaction((tx) => writeBatch(tx, spans));
    expect(none).toEqual({ inserted: [], newErrors: [], sessionIds: [], groupChanges: [] });
    expect(await session(store, 'wb-repeat')).toEqual({ span_count: 40, error_count: 3, state: 'running' });
    const [{ n }] = await store.query<{ n: number }>("select count(*)::int as n from errors where session_id = 'wb-repeat'");
    expect(n).toBe(3);
  });

  it('refuses a batch that repeats a stored span on the fast path, leaving nothing behind, and writeBatch then stores the rest', async () => {
    store = await storage.create();
    const spans = sessionSpans('wb-fast', 20);
    await store.transaction((tx) => writeNewBatch(tx, spans.slice(0, 5)));
    await expect(store.transaction((tx) => writeNewBatch(tx, spans))).rejects.toBeTruthy();
    expect(await session(store, 'wb-fast')).toMatchObject({ span_count: 5, error_count: 0 });
    const rest = await store.transaction((tx) => writeBatch(tx, spans));
    expect(rest.inserted).toHaveLength(15);
    expect(await session(store, 'wb-fast')).toEqual({ span_count: 20, error_count: 1, state: 'running' });
    const [{ n }] = await store.query<{ n: number }>("select count(*)::int as n from spans where session_id = 'wb-fast'");
    expect(n).toBe(20);
  });

  it('stores text with tabs, newlines, backslashes, quotes and emoji, and times to the microsecond, exactly as sent', async () => {
    store = await storage.create();
    const tricky = 'tab\there\nnew line\r\\back\\slash "quoted" \\N not null 😀 \\t';
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': tricky }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    // 1,700,000,000.123456789 s: the stored time keeps .123456 (Postgres holds microseconds).
    const at: [number, number] = [1_700_000_000, 123_456_789];
    const span = provider.getTracer('t').startSpan(tricky, { startTime: at, attributes: { [ATTR.sessionId]: 'wb-tricky', 'app.note': tricky, 'app.list': [tricky, 'b'] } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: tricky });
    span.end(at);
    const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans() as ReadableSpan[])!;
    const [written] = enrichSpans(decodeTraceRequest(body, 'protobuf').spans);
    await store.transaction((tx) => writeBatch(tx, [written]));
    const [row] = await store.query<{ name: string; service: string; status_message: string; note: string; list: string[]; start_us: string }>(
      `select name, service, status_message, attributes->>'app.note' as note, attributes->'app.list' as list,
        (extract(epoch from start_time) * 1000000)::bigint::text as start_us from spans where session_id = 'wb-tricky'`,
    );
    expect(row).toEqual({ name: tricky, service: tricky, status_message: tricky, note: tricky, list: [tricky, 'b'], start_us: '1700000000123456' });
  });

  it('has a column list entry for every column of the tables it writes, as migrated', async () => {
    store = await storage.create();
    // Left to column defaults (received_at, updated_at, stuck …), written only by the watchdog, or by an operator's action.
    const elsewhere: Record<string, string[]> = { sessions: ['stuck_kind', 'stuck_since', 'stuck_acknowledged_at', 'stuck_dismissed_at', 'abandoned_at'] };
    for (const [table, columns] of [['spans', SPAN_COLUMNS], ['errors', ERROR_COLUMNS], ['sessions', SESSION_COLUMNS]] as const) {
      const rows = await store.query<{ column_name: string; column_default: string | null }>(
        "select column_name, column_default from information_schema.columns where table_name = $1 and table_schema = 'public'",
        [table],
      );
      const written = columns.map((c) => c.name);
      const unwritten = rows.filter((r) => r.column_default === null && !written.includes(r.column_name) && !elsewhere[table]?.includes(r.column_name));
      expect(unwritten.map((r) => r.column_name), `${table}: a new column? Add it to its column list in write-batch.ts`).toEqual([]);
      expect(written.filter((c) => !rows.some((r) => r.column_name === c)), `${table}: listed columns that do not exist`).toEqual([]);
    }
  });
});

describe.runIf(STORAGES.some((s) => s.name === 'postgres'))('two writers on one Postgres', () => {
  let store: Store | undefined;
  afterEach(async () => store?.close());

  it.each([['writeBatch', writeBatch], ['writeNewBatch', writeNewBatch]] as const)('%s: keep exact session counts when both upsert the same sessions at once, and never deadlock', async (_, write) => {
    store = await STORAGES.find((s) => s.name === 'postgres')!.create();
    const ids = Array.from({ length: 50 }, (_, i) => `wb-both-${String(i).padStart(2, '0')}`);
    const all = ids.map((id) => sessionSpans(id, 31));
    await store.transaction((tx) => writeBatch(tx, all.map((s) => s[0])));
    // Each writer gets half of every session's remaining spans, in opposite session order. A third
    // transaction holds the middle session's row until both writers wait on it: writers that lock
    // rows in arrival order would then hold what the other needs next (a deadlock).
    const halves = [all.flatMap((s) => s.slice(1, 16)), [...all].reverse().flatMap((s) => s.slice(16))];
    let writers: Promise<unknown> | undefined;
    await store.transaction(async (blocker) => {
      await blocker.query("select 1 from sessions where id = 'wb-both-25' for update");
      writers = Promise.all(halves.map((half) => store!.transaction((tx) => write(tx, half))));
      for (let waited = 0; waited < 200; waited++) {
        const [{ n }] = await store!.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
        if (n >= 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    await writers;
    for (const id of ids) expect(await session(store, id)).toEqual({ span_count: 31, error_count: 3, state: 'running' });
    const [group] = await store.query<{ count: number }>('select count from error_groups');
    expect(group.count).toBe(150);
  });
});
