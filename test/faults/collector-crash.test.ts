/**
 * Collector crash: the collector runs as a real child process and is killed with SIGKILL while a
 * runtime instrumented with the real @faultline/sdk keeps producing sessions; it is restarted on
 * the same port. Every span the runtime produced must be stored exactly once — the SDK's spool and
 * idempotent ingest cover the outage — and a span the collector acknowledged just before the
 * kill must have survived it (ack only after commit). On the embedded store the restart must take
 * over the dead process's lock file, and a second collector on the same directory is refused
 * while the first one ingests.
 */
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { init } from '@faultline/sdk';
import { openPglite } from '../../collector/src/store/db.ts';
import {
  freePort,
  freshPostgresDatabase,
  hex,
  otlpBody,
  otlpSpan,
  postTraces,
  reportFigures,
  sleep,
  startCollectorProcess,
  tempDir,
  type CollectorProcess,
} from './support.ts';

/** Remembers the id of every span the runtime ends: the ground truth the database must match. */
class SpanRecorder implements SpanProcessor {
  readonly spans: { traceId: string; spanId: string; sessionId: string }[] = [];
  onStart(_span: Span, _ctx: Context): void {}
  onEnd(span: ReadableSpan): void {
    const ctx = span.spanContext();
    this.spans.push({ traceId: ctx.traceId, spanId: ctx.spanId, sessionId: String(span.attributes['session.id']) });
  }
  forceFlush = async () => {};
  shutdown = async () => {};
}

interface StoredSpan {
  trace_id: string;
  span_id: string;
}

interface Target {
  name: 'pglite' | 'postgres';
  env(): Promise<Record<string, string>>;
  /** Spans and per-session counters of one service, read after the collector stopped. */
  read(service: string): Promise<{ spans: StoredSpan[]; sessions: { id: string; span_count: number }[] }>;
  cleanup(): Promise<void>;
  dataDir?: string;
}

function pgliteTarget(): Target {
  const dir = tempDir('crash-pglite');
  return {
    name: 'pglite',
    dataDir: dir,
    env: async () => ({ FAULTLINE_DATA_DIR: dir }),
    async read(service) {
      const store = await openPglite(dir);
      try {
        const spans = await store.query<StoredSpan>('select trace_id, span_id from spans where service = $1', [service]);
        const sessions = await store.query<{ id: string; span_count: number }>('select id, span_count from sessions where service = $1', [service]);
        return { spans, sessions };
      } finally {
        await store.close();
      }
    },
    async cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresTarget(baseUrl: string): Target {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>> | null = null;
  return {
    name: 'postgres',
    async env() {
      db ??= await freshPostgresDatabase(baseUrl, 'crash');
      return { DATABASE_URL: db.url };
    },
    async read(service) {
      const sql = postgres(db!.url, { max: 1, onnotice: () => {} });
      try {
        const spans = await sql<StoredSpan[]>`select trace_id, span_id from spans where service = ${service}`;
        const sessions = await sql<{ id: string; span_count: number }[]>`select id, span_count from sessions where service = ${service}`;
        return { spans: [...spans], sessions: [...sessions] };
      } finally {
        await sql.end();
      }
    },
    async cleanup() {
      await db?.drop();
    },
  };
}

const targets: Target[] = [pgliteTarget(), ...(process.env.DATABASE_URL ? [postgresTarget(process.env.DATABASE_URL)] : [])];
const running = new Set<CollectorProcess>();

afterAll(async () => {
  for (const c of running) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  for (const t of targets) await t.cleanup();
});

async function start(env: Record<string, string>, port: number): Promise<CollectorProcess> {
  const c = await startCollectorProcess(env, { port });
  running.add(c);
  void c.exited.then(() => running.delete(c));
  return c;
}

describe.each(targets)('collector killed with SIGKILL mid-stream ($name)', (target) => {
  it('stores every span the SDK produced exactly once, keeps what it acknowledged, and restarts on the same port', async () => {
    const env = await target.env();
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const service = `crash-${target.name}-${hex(3)}`;
    const spoolDir = tempDir('crash-spool');
    const first = await start(env, port);

    const recorder = new SpanRecorder();
    const faultline = init({
      serviceName: service,
      endpoint,
      spoolDir,
      heartbeatIntervalMs: 0,
      scheduledDelayMillis: 100,
      exportTimeoutMs: 1500,
      replayInitialDelayMs: 200,
      replayMaxDelayMs: 1000,
      spanProcessors: [recorder],
    });

    // The runtime: a new session every 20 ms with a turn, every fourth one failing with a billing error.
    let producing = true;
    let sessionsStarted = 0;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        const session = faultline.startSession({ id: `${service}-s${i}`, agent: 'coder', provider: 'anthropic', model: 'claude-sonnet-4-5' });
        sessionsStarted++;
        try {
          await session.turn('reply', async (turn) => {
            if (i % 4 === 3) throw Object.assign(new Error('Your credit balance is too low to access the API'), { status: 400 });
            turn.output(`answer ${i}`);
          });
          session.end('completed');
        } catch {
          session.end('stopped', 'billing');
        }
        await sleep(20);
      }
    })();

    await sleep(2000);
    // A span the collector acknowledges right before the kill must survive it.
    const ackedTrace = hex(16);
    const acked = Array.from({ length: 20 }, () => otlpSpan({ traceId: ackedTrace, spanId: hex(8), sessionId: `${service}-acked`, name: 'acked' }));
    const ack = await postTraces(endpoint, otlpBody(acked, service));
    expect(ack.status).toBe(200);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.exited).signal).toBe('SIGKILL');
    if (target.dataDir) {
      // The dead process could not remove its lock; the restart must take it over.
      expect(fs.readFileSync(path.join(target.dataDir, 'faultline.lock'), 'utf8').trim()).toBe(String(first.pid));
    }
    await sleep(1500);
    const second = await start(env, port);
    const outageMs = Date.now() - killedAt;

    if (target.dataDir) {
      // A second collector on the directory the running one ingests into is refused, by name.
      const refused = await startCollectorProcess(env, { port: await freePort() }).then(
        (c) => {
          running.add(c);
          return null;
        },
        (err: Error) => err.message,
      );
      expect(refused).toMatch(/in use by another Faultline collector \(pid \d+\)/);
      expect(refused).toContain('FAULTLINE_DATA_DIR');
    }

    await sleep(2000);
    producing = false;
    await producer;
    // Drain: the live pipeline, then the spool (replay backs off up to 1 s between attempts).
    const drainStarted = Date.now();
    for (;;) {
      await faultline.flush();
      if (faultline.stats().pendingBatches === 0 || Date.now() - drainStarted > 30_000) break;
      await sleep(200);
    }
    await faultline.shutdown();
    const stats = faultline.stats();
    expect(stats.pendingBatches).toBe(0);
    expect(stats.droppedSpans).toBe(0);
    await second.stop();
    expect((await second.exited).code).toBe(0);

    const { spans, sessions } = await target.read(service);
    const key = (s: { traceId?: string; spanId?: string; trace_id?: string; span_id?: string }) => `${s.traceId ?? s.trace_id}:${s.spanId ?? s.span_id}`;
    const stored = new Set(spans.map(key));
    const expected = new Set([...recorder.spans.map(key), ...acked.map(key)]);
    const missing = [...expected].filter((k) => !stored.has(k));
    const extra = [...stored].filter((k) => !expected.has(k));
    expect(missing).toEqual([]);
    expect(extra).toEqual([]);
    expect(spans.length).toBe(expected.size);
    // Replays must not be counted twice in the session rows either.
    const perSession = new Map<string, number>();
    for (const s of recorder.spans) perSession.set(s.sessionId, (perSession.get(s.sessionId) ?? 0) + 1);
    perSession.set(`${service}-acked`, acked.length);
    const counted = new Map(sessions.map((s) => [s.id, Number(s.span_count)]));
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(perSession));

    reportFigures(`collector crash (${target.name})`, {
      sessions: sessionsStarted,
      spansProduced: recorder.spans.length,
      spansStored: spans.length,
      ackedBeforeKill: acked.length,
      outageMs,
      spooledBatches: stats.spooledBatches,
      replayedBatches: stats.replayedBatches,
      exportFailures: stats.exportFailures,
    });
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });
});
