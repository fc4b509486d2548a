/**
 * Soak: minutes of steady ingest at a fixed rate into a collector process with the stuck watchdog
 * on short thresholds and live SSE viewers connected. Healthy sessions keep sending; every few
 * seconds one session deliberately goes silent while running; some healthy ones end normally.
 * The collector's memory must stay flat after warm-up, no span may be lost, the silent sessions
 * must be flagged stuck (in the database, the API and on every viewer's stream, within the
 * threshold + 5 s) and no healthy or ended session ever.
 *
 * FAULTLINE_SOAK_SECONDS (default 150) and FAULTLINE_SOAK_RATE (spans/s, default 200) tune it.
 */
import fs from 'node:fs';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../collector/src/store/db.ts';
import {
  freshPostgresDatabase,
  hex,
  otlpBody,
  otlpSpan,
  postTraces,
  reportFigures,
  rssMiB,
  sleep,
  startCollectorProcess,
  tempDir,
  type CollectorProcess,
} from './support.ts';

const SECONDS = Number(process.env.FAULTLINE_SOAK_SECONDS ?? 150);
const RATE = Number(process.env.FAULTLINE_SOAK_RATE ?? 200);
const STUCK_MS = 3000;
const SWEEP_MS = 500;
const TICK_MS = 100;
const HEALTHY = 20;
const SILENT_EVERY_MS = 8000;
const END_EVERY_MS = 15_000;
const VIEWERS = 3;

interface Viewer {
  stuck: Map<string, number>;
  events: number;
  close(): void;
  done: Promise<void>;
}

/** A live viewer on /api/stream, remembering when each `stuck` event arrived. */
function connectViewer(url: string): Viewer {
  const controller = new AbortController();
  const viewer: Viewer = { stuck: new Map(), events: 0, close: () => controller.abort(), done: Promise.resolve() };
  viewer.done = (async () => {
    try {
      const r = await fetch(`${url}/api/stream`, { signal: controller.signal });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(message)?.[1];
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (!type || !data) continue;
          viewer.events++;
          if (type === 'stuck') {
            const id = (JSON.parse(data) as { session?: { id: string }; id?: string }).session?.id;
            if (id && !viewer.stuck.has(id)) viewer.stuck.set(id, Date.now());
          }
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return viewer;
}

let collector: CollectorProcess | null = null;
const dataDir = tempDir('soak');
let pgDb: Awaited<ReturnType<typeof freshPostgresDatabase>> | null = null;

afterAll(async () => {
  await collector?.stop();
  await pgDb?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('soak', () => {
  it(`${SECONDS} s at ${RATE} spans/s with the watchdog and ${VIEWERS} live viewers: flat memory, nothing lost, stuck flags right`, async () => {
    const baseUrl = process.env.DATABASE_URL;
    if (baseUrl) pgDb = await freshPostgresDatabase(baseUrl, 'soak');
    collector = await startCollectorProcess({
      ...(pgDb ? { DATABASE_URL: pgDb.url } : { FAULTLINE_DATA_DIR: dataDir }),
      FAULTLINE_STUCK_STARTING_MS: String(STUCK_MS),
      FAULTLINE_STUCK_RUNNING_MS: String(STUCK_MS),
      FAULTLINE_STUCK_RETRYING_MS: String(STUCK_MS),
      FAULTLINE_SWEEP_INTERVAL_MS: String(SWEEP_MS),
    });
    const url = collector.url;
    const service = `soak-${hex(3)}`;
    const viewers = Array.from({ length: VIEWERS }, () => connectViewer(url));
    await sleep(300);

    const sent = new Set<string>();
    const healthy = Array.from({ length: HEALTHY }, (_, i) => `${service}-healthy-${i}`);
    const ended = new Set<string>();
    const silent = new Map<string, number>(); // id → time of its last span
    const answers = new Map<number, number>();
    let nextHealthy = HEALTHY;
    let nextSilent = 0;
    const traceOf = new Map<string, string>();
    const span = (sessionId: string, name: string, attributes: Record<string, string | number> = {}) => {
      let traceId = traceOf.get(sessionId);
      if (!traceId) traceOf.set(sessionId, (traceId = hex(16)));
      const s = otlpSpan({ traceId, sessionId, name, attributes });
      sent.add(`${s.traceId}:${s.spanId}`);
      return s;
    };
    const send = async (spans: ReturnType<typeof otlpSpan>[]) => {
      for (;;) {
        const r = await postTraces(url, otlpBody(spans, service));
        answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
        if (r.status === 200) return;
        if (r.status !== 429 && r.status !== 503) throw new Error(`ingest answered ${r.status}: ${r.text}`);
        await sleep(Number(r.retryAfter ?? 1) * 1000);
      }
    };
    const running = (id: string) => span(id, 'faultline.session.status', { 'faultline.session.state': 'running', 'faultline.session.status_message': 'Working…' });
    await send(healthy.map(running));

    const rss: { atS: number; mib: number }[] = [];
    const started = Date.now();
    let lastSilent = started;
    let lastEnd = started;
    let tick = 0;
    const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
    const inSoak = () => Date.now() - started < SECONDS * 1000;
    // After the soak, healthy sessions keep beating until the last silent one is due to be flagged.
    while (inSoak() || Date.now() < Math.max(...silent.values()) + STUCK_MS + 5000) {
      const tickStart = Date.now();
      const batch: ReturnType<typeof otlpSpan>[] = [];
      const now = Date.now();
      if (inSoak() && now - lastSilent >= SILENT_EVERY_MS) {
        // A session that starts running, beats once, and then hangs: it must be flagged.
        lastSilent = now;
        const id = `${service}-silent-${nextSilent++}`;
        batch.push(running(id), span(id, 'faultline.session.heartbeat', { 'faultline.heartbeat.phase': 'thinking' }));
        silent.set(id, now);
      }
      if (inSoak() && now - lastEnd >= END_EVERY_MS) {
        // A healthy session completes (never stuck afterwards) and a new one takes its place.
        lastEnd = now;
        const slot = tick % HEALTHY;
        const done = healthy[slot];
        batch.push(span(done, 'faultline.session.status', { 'faultline.session.state': 'completed' }));
        ended.add(done);
        healthy[slot] = `${service}-healthy-${nextHealthy++}`;
        batch.push(running(healthy[slot]));
      }
      while (batch.length < perTick) {
        const id = healthy[(tick * perTick + batch.length) % HEALTHY];
        batch.push(batch.length % 5 === 0 ? span(id, 'invoke_agent coder', { 'gen_ai.operation.name': 'invoke_agent' }) : span(id, 'faultline.session.heartbeat', { 'faultline.heartbeat.events': tick }));
      }
      await send(batch);
      if (tick % Math.round(5000 / TICK_MS) === 0) rss.push({ atS: Math.round((Date.now() - started) / 1000), mib: rssMiB(collector.pid) });
      tick++;
      await sleep(Math.max(0, TICK_MS - (Date.now() - tickStart)));
    }
    const elapsedS = (Date.now() - started) / 1000;
    const rssEnd = rssMiB(collector.pid);

    // The API: exactly the silent sessions are stuck.
    const stuckIds = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { items: { id: string; stuck: boolean; stuckKind: string | null }[]; nextCursor: string | null } = await (
        await fetch(`${url}/api/sessions?stuck=true&service=${service}&limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      for (const s of page.items) {
        stuckIds.add(s.id);
        expect(s.stuckKind).toBe('running_silent');
      }
      cursor = page.nextCursor;
    } while (cursor);
    const wrongFlags = [...stuckIds].filter((id) => !silent.has(id));
    expect(wrongFlags).toEqual([]);
    expect([...silent.keys()].filter((id) => !stuckIds.has(id))).toEqual([]);

    // Every viewer saw each silent session flagged, promptly, and no other.
    const latencies: number[] = [];
    for (const v of viewers) {
      expect([...v.stuck.keys()].filter((id) => !silent.has(id))).toEqual([]);
      expect([...silent.keys()].filter((id) => !v.stuck.has(id))).toEqual([]);
      for (const [id, at] of v.stuck) latencies.push(at - silent.get(id)!);
      v.close();
    }
    await Promise.all(viewers.map((v) => v.done));
    expect(Math.max(...latencies)).toBeLessThanOrEqual(STUCK_MS + 5000);

    // Memory flat: the last sample against the one after warm-up (30 s, or a fifth of a short run).
    const warm = rss.find((r) => r.atS >= Math.min(30, SECONDS / 5)) ?? rss[0];
    const growth = rssEnd - warm.mib;
    reportFigures('soak', {
      storage: pgDb ? 'postgres' : 'pglite',
      seconds: Math.round(elapsedS),
      targetRate: RATE,
      spansSent: sent.size,
      achievedRate: Math.round(sent.size / elapsedS),
      answers: Object.fromEntries(answers),
      silentSessions: silent.size,
      stuckFlagged: stuckIds.size,
      wronglyFlagged: wrongFlags.length,
      endedSessions: ended.size,
      viewers: VIEWERS,
      eventsPerViewer: viewers.map((v) => v.events),
      stuckLatencyMs: { min: Math.min(...latencies), max: Math.max(...latencies) },
      rssMiB: { first: rss[0].mib, afterWarmup: warm.mib, end: rssEnd, max: Math.max(...rss.map((r) => r.mib)), growthAfterWarmup: Math.round(growth * 10) / 10 },
    });
    expect(growth).toBeLessThan(100);

    // Nothing lost: every span sent is stored, once.
    await collector.stop();
    expect((await collector.exited).code).toBe(0);
    let stored: string[];
    if (pgDb) {
      const sql = postgres(pgDb.url, { max: 1, onnotice: () => {} });
      stored = (await sql<{ k: string }[]>`select trace_id || ':' || span_id as k from spans where service = ${service}`).map((r) => r.k);
      await sql.end();
    } else {
      const store = await openPglite(dataDir);
      stored = (await store.query<{ k: string }>(`select trace_id || ':' || span_id as k from spans where service = $1`, [service])).map((r) => r.k);
      await store.close();
    }
    expect(stored.length).toBe(sent.size);
    const storedSet = new Set(stored);
    expect([...sent].filter((k) => !storedSet.has(k)).length).toBe(0);
  });
});
