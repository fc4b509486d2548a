/**
 * A legal but enormous OTLP request — 45 MB of protobuf, 500,000 spans, the size that used to
 * freeze the collector for 18–26 s and get a retryable 503 (a poison pill every client retries
 * forever) — and a 60 KB gzip body that inflates to one 60 MiB attribute. On each storage, against
 * a collector process: the request gets a non-retryable answer (200 with OTLP partial success)
 * within seconds, the spans within the limits are stored, and /healthz and the API keep answering
 * in well under a second throughout.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../collector/src/store/db.ts';
import { freshPostgresDatabase, reportFigures, rssMiB, sleep, startCollectorProcess, tempDir, type CollectorProcess } from './support.ts';

const SPANS = 500_000;
const STORAGES = ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])] as const;

/** ExportTraceServiceRequest (opentelemetry-proto field numbers) with `count` spans made by `attrs`. */
function request(count: number, service: string, attrs: (i: number) => [string, string][]): Uint8Array {
  const w = protobuf.Writer.create();
  const now = Date.now() * 1e6;
  const ids = randomBytes(count * 24);
  w.uint32((1 << 3) | 2).fork(); // resource_spans
  w.uint32((1 << 3) | 2).fork(); // resource
  w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('service.name').uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(service).ldelim().ldelim();
  w.ldelim();
  w.uint32((2 << 3) | 2).fork(); // scope_spans
  for (let i = 0; i < count; i++) {
    w.uint32((2 << 3) | 2).fork(); // span
    w.uint32((1 << 3) | 2).bytes(ids.subarray(i * 24, i * 24 + 16));
    w.uint32((2 << 3) | 2).bytes(ids.subarray(i * 24 + 16, i * 24 + 24));
    w.uint32((5 << 3) | 2).string('execute_tool');
    w.uint32((6 << 3) | 0).int32(1);
    // Nanoseconds as a double: a few hundred ns of rounding do not matter here.
    w.uint32((7 << 3) | 1).fixed64(now + i * 1000);
    w.uint32((8 << 3) | 1).fixed64(now + i * 1000 + 5_000_000);
    for (const [k, v] of attrs(i)) {
      w.uint32((9 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(k).uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string(v).ldelim();
      w.ldelim();
    }
    w.ldelim();
  }
  w.ldelim().ldelim();
  return w.finish();
}

interface Sample {
  at: number;
  ms: number;
  status: number;
}

/** Polls a path every 100 ms until stopped, recording how long each answer took. */
function poll(url: string, path: string): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const started = performance.now();
      let status = 0;
      try {
        const r = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
        await r.arrayBuffer();
        status = r.status;
      } catch {
        status = 0;
      }
      samples.push({ at: Date.now(), ms: performance.now() - started, status });
      await sleep(100);
    }
  })();
  return {
    samples,
    async stop() {
      on = false;
      await loop;
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe.each(STORAGES)('a 45 MB, 500,000-span request on %s', (storage) => {
  it('gets a non-retryable answer within seconds while /healthz and the API answer in well under a second', async () => {
    const dataDir = tempDir(`heavy-${storage}`);
    let pg: Awaited<ReturnType<typeof freshPostgresDatabase>> | null = null;
    if (storage === 'postgres') {
      pg = await freshPostgresDatabase(process.env.DATABASE_URL!, 'heavy');
      cleanups.push(() => pg!.drop());
    }
    const collector: CollectorProcess = await startCollectorProcess({ FAULTLINE_DATA_DIR: dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) });
    cleanups.push(() => collector.stop());
    const service = `heavy-${storage}`;
    const body = request(SPANS, service, (i) => [['session.id', `heavy-${i % 1000}`]]);
    expect(body.byteLength).toBeGreaterThan(40_000_000);
    const rssBefore = rssMiB(collector.pid);

    const health = poll(collector.url, '/healthz');
    const api = poll(collector.url, '/api/sessions?limit=5');
    await sleep(300);
    const started = performance.now();
    const r = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: body as BodyInit,
      signal: AbortSignal.timeout(120_000),
    });
    const answerMs = performance.now() - started;
    const answerBody = new Uint8Array(await r.arrayBuffer());
    // Keep sampling while the accepted spans are written.
    await sleep(1000);
    const rssPeak = rssMiB(collector.pid);

    // A 60 KB gzip body that inflates to one 60 MiB attribute: stored cut to the value limit.
    const bomb = gzipSync(request(1, `${service}-bomb`, () => [['session.id', 'bomb-1'], ['tool.output', 'a'.repeat(60 * 1024 * 1024)]]));
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    const bombStarted = performance.now();
    const bombAnswer = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: bomb as BodyInit,
    });
    const bombMs = performance.now() - bombStarted;
    await bombAnswer.arrayBuffer();
    await health.stop();
    await api.stop();

    // 200 with partial success: an OTLP client does not retry it, nor should it.
    expect(r.status).toBe(200);
    expect(r.headers.get('retry-after')).toBeNull();
    const text = Buffer.from(answerBody).toString('latin1');
    expect(text).toContain('more than 10000 spans in one request (FAULTLINE_MAX_SPANS_PER_REQUEST)');
    expect(answerMs).toBeLessThan(30_000);
    expect(bombAnswer.status).toBe(200);

    const during = (xs: Sample[]) => xs.filter((s) => s.status !== 0);
    expect(health.samples.length).toBeGreaterThan(5);
    expect(health.samples.every((s) => s.status === 200)).toBe(true);
    const slowestHealth = Math.max(...during(health.samples).map((s) => s.ms));
    const slowestApi = Math.max(...during(api.samples).map((s) => s.ms));
    expect(api.samples.every((s) => s.status === 200)).toBe(true);
    expect(slowestHealth).toBeLessThan(1000);
    expect(slowestApi).toBeLessThan(1000);
    await collector.stop();

    let stored: number;
    let bombValueLength: number;
    if (pg) {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      stored = (await sql<{ n: number }[]>`select count(*)::int as n from spans where service = ${service}`)[0].n;
      bombValueLength = (await sql<{ n: number }[]>`select length(attributes->>'tool.output')::int as n from spans where session_id = 'bomb-1'`)[0].n;
      await sql.end();
    } else {
      const store = await openPglite(dataDir);
      stored = (await store.query<{ n: number }>(`select count(*)::int as n from spans where service = $1`, [service]))[0].n;
      bombValueLength = (await store.query<{ n: number }>(`select length(attributes->>'tool.output')::int as n from spans where session_id = 'bomb-1'`))[0].n;
      await store.close();
    }
    expect(stored).toBe(10_000);
    expect(bombValueLength).toBe(64 * 1024);

    reportFigures(`heavy request (${storage})`, {
      bodyMB: Math.round(body.byteLength / 1e5) / 10,
      spans: SPANS,
      answerMs: Math.round(answerMs),
      stored,
      healthSamples: health.samples.length,
      slowestHealthMs: Math.round(slowestHealth),
      slowestApiMs: Math.round(slowestApi),
      gzipBombKB: Math.round(bomb.byteLength / 1024),
      gzipBombAnswerMs: Math.round(bombMs),
      rssBeforeMiB: rssBefore,
      rssAfterAnswerMiB: rssPeak,
    });
  });
});
