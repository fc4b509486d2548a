/**
 * SIGTERM under load: the collector stops accepting connections, answers every request already in
 * flight (its spans committed), tells requests that arrive on open connections to come back (503 +
 * Retry-After), ends live streams, and exits 0 — instead of resetting in-flight connections.
 * Against a collector process on each storage, with keep-alive clients and an SSE viewer.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../collector/src/store/db.ts';
import { freshPostgresDatabase, hex, otlpBody, otlpSpan, reportFigures, sleep, startCollectorProcess, tempDir } from './support.ts';

const STORAGES = ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as const;
const CLIENTS = 6;
const SPANS_PER_REQUEST = 300;

type Outcome = { startedAt: number; endedAt: number; status: number; retryAfter: string | null; error: string | null; keys: string[] };

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.each(STORAGES)('SIGTERM under load on %s', (storage) => {
  it('answers every request in flight, 503 + Retry-After to new ones on open connections, and exits 0 without resets', async () => {
    const dataDir = tempDir(`shutdown-${storage}`);
    let pg: Awaited<ReturnType<typeof freshPostgresDatabase>> | null = null;
    if (storage === 'postgres') {
      pg = await freshPostgresDatabase(process.env.DATABASE_URL!, 'shutdown');
      cleanups.push(() => pg!.drop());
    }
    const collector = await startCollectorProcess({ FAULTLINE_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) });
    cleanups.push(() => collector.stop());
    const service = `shutdown-${storage}-${hex(3)}`;

    // A live viewer: its stream must end at shutdown, not hold the process open.
    const viewer = fetch(`${collector.url}/api/stream`).then(async (r) => {
      for await (const _ of r.body as unknown as AsyncIterable<Uint8Array>) void _;
      return 'ended';
    }, (err: Error) => `error: ${err.message}`);

    let sigtermAt = 0;
    let running = true;
    const outcomes: Outcome[] = [];
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let n = 0; running; n++) {
        const spans = Array.from({ length: SPANS_PER_REQUEST }, (_, i) => otlpSpan({ sessionId: `${service}-${c}-${n % 5}`, name: `work ${i}` }));
        const startedAt = Date.now();
        const keys = spans.map((s) => `${s.traceId}:${s.spanId}`);
        try {
          const r = await fetch(`${collector.url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: otlpBody(spans, service),
            signal: AbortSignal.timeout(30_000),
          });
          await r.arrayBuffer();
          outcomes.push({ startedAt, endedAt: Date.now(), status: r.status, retryAfter: r.headers.get('retry-after'), error: null, keys });
        } catch (err) {
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          outcomes.push({ startedAt, endedAt: Date.now(), status: 0, retryAfter: null, error: cause?.code ?? cause?.message ?? (err as Error).message, keys });
          if (sigtermAt) await sleep(50);
        }
      }
    });

    await sleep(2500);
    sigtermAt = Date.now();
    collector.child.kill('SIGTERM');
    const exit = await collector.exited;
    const exitMs = Date.now() - sigtermAt;
    await sleep(500);
    running = false;
    await Promise.all(clients);
    const viewerEnd = await viewer;

    const inFlight = outcomes.filter((o) => o.startedAt < sigtermAt);
    const later = outcomes.filter((o) => o.startedAt >= sigtermAt);
    // In flight at SIGTERM: every one answered — no connection reset, no 500.
    expect(inFlight.filter((o) => o.status === 0)).toEqual([]);
    expect(inFlight.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    // Arriving after it: 503 with Retry-After while the collector still listens (200 for those it
    // took in before its event loop got to the signal, e.g. while PGlite was writing); once the
    // listener is closed, a connection error (refused, or reset for one still in the kernel's accept
    // queue, never accepted) — which OTLP exporters retry like a 503.
    const laterAnswered = later.filter((o) => o.status !== 0);
    expect(laterAnswered.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    expect(laterAnswered.filter((o) => o.status !== 200 && !(o.status === 503 && o.retryAfter))).toEqual([]);
    const laterErrors = later.filter((o) => o.status === 0).map((o) => o.error);
    expect(laterErrors.filter((e) => !['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(e ?? ''))).toEqual([]);
    // Every such error came after the last answer: nothing the collector had accepted was cut.
    const lastAnswer = Math.max(...outcomes.filter((o) => o.status !== 0).map((o) => o.endedAt));
    expect(later.filter((o) => o.status === 0 && o.endedAt < lastAnswer - 50 && o.error !== 'ECONNREFUSED')).toEqual([]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(viewerEnd).toBe('ended');
    expect(exitMs).toBeLessThan(10_000);

    // Every acknowledged span is stored.
    const acked = outcomes.filter((o) => o.status === 200).flatMap((o) => o.keys);
    let stored: Set<string>;
    if (pg) {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      stored = new Set((await sql<{ k: string }[]>`select trace_id || ':' || span_id as k from spans where service = ${service}`).map((r) => r.k));
      await sql.end();
    } else {
      const store = await openPglite(dataDir);
      stored = new Set((await store.query<{ k: string }>(`select trace_id || ':' || span_id as k from spans where service = $1`, [service])).map((r) => r.k));
      await store.close();
    }
    expect(acked.filter((k) => !stored.has(k))).toEqual([]);

    reportFigures(`SIGTERM under load (${storage})`, {
      requests: outcomes.length,
      inFlightAtSigterm: inFlight.filter((o) => o.endedAt >= sigtermAt).length,
      inFlightAnswers: Object.fromEntries([200, 503].map((s) => [s, inFlight.filter((o) => o.endedAt >= sigtermAt && o.status === s).length])),
      laterAnswered: Object.fromEntries([200, 503].map((st) => [st, laterAnswered.filter((o) => o.status === st).length])),
      laterConnectionErrors: Object.fromEntries([...new Set(laterErrors)].map((e) => [e, laterErrors.filter((x) => x === e).length])),
      exitMs,
      spansAcked: acked.length,
    });
  });
});
