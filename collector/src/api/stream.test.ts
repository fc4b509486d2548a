import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import type { ErrorOccurrence, Session, StreamEvent } from '@faultline/schema';
import { STREAM_POSITION_HEADER, type StreamHello, type StreamReset } from '@faultline/schema/api';
import type { CollectorDeps } from '../deps.ts';
import { EventBus } from '../events.ts';
import { LiveChanges } from '../live-changes.ts';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { hubOf, sseClientCount, sseDroppedCount, streamRoutes } from './stream.ts';
import { AgentTelemetry } from './agent-telemetry.ts';

interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** Reads SSE messages off a fetch body, the way a browser's EventSource would. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(): Promise<SseMessage> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((l) => !l.startsWith(':'));
          if (lines.length === 0) continue;
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? null;
          return { event, data, id };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** Next message of a given type, skipping the others. */
    async nextOf(type: string): Promise<SseMessage> {
      for (;;) {
        const m = await this.next();
        if (m.event === type) return m;
      }
    },
    cancel: () => reader.cancel(),
  };
}

const until = async (check: () => boolean, tries = 200) => {
  for (let i = 0; i < tries && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

async function connect(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/stream`, { signal: abort.signal, headers });
  const sse = sseReader(res.body!);
  return {
    res,
    sse,
    close: async () => {
      abort.abort();
      await sse.cancel().catch(() => {});
    },
  };
}

const scenario = (id: string): StreamEvent => ({ type: 'scenario', scenarioId: id });

describe.each(STORAGES)('live stream on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000, sseCoalesceMs: 50 });
  });
  afterAll(async () => collector?.close());

  it('says hello with an id, then delivers an occurrence (not an event named "error") and its session, and lets go on disconnect', async () => {
    const { res, sse, close } = await connect(collector.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const hello = await sse.next();
    expect(hello.event).toBe('hello');
    expect(hello.id).toMatch(/^[A-Za-z0-9]+-\d+$/);
    const helloData = JSON.parse(hello.data) as StreamHello;
    expect(helloData.resumed).toBe(false);
    expect(Math.abs(Date.parse(helloData.serverTime) - Date.now())).toBeLessThan(60_000);
    expect(sseClientCount(collector.deps.events)).toBe(1);

    const t = new AgentTelemetry(collector.url);
    t.billingError('live-1', new Date(Date.now() - 1000), new Date());
    await t.flush();
    await t.shutdown();

    const seen: SseMessage[] = [];
    for (;;) {
      const m = await sse.next();
      seen.push(m);
      if (m.event === 'session') break;
    }
    expect(seen.map((m) => m.event)).not.toContain('error');
    const occurrenceMessage = seen.find((m) => m.event === 'occurrence')!;
    const occurrence = JSON.parse(occurrenceMessage.data) as StreamEvent;
    expect(occurrence.type).toBe('occurrence');
    if (occurrence.type === 'occurrence') {
      expect(occurrence.occurrence.sessionId).toBe('live-1');
      expect(occurrence.occurrence.code).toBe('AGT-PROVIDER-BILLING');
      expect(occurrence.occurrence.message).toMatch(/out of credits/);
    }
    const session = JSON.parse(seen.at(-1)!.data) as StreamEvent;
    expect(session.type === 'session' && session.session.lastError?.code).toBe('AGT-PROVIDER-BILLING');
    // Ids count up: hello, occurrence, session.
    const seq = (id: string | null) => Number(id!.split('-')[1]);
    expect(seq(occurrenceMessage.id)).toBeGreaterThan(seq(hello.id));
    expect(seq(seen.at(-1)!.id)).toBeGreaterThan(seq(occurrenceMessage.id));

    await close();
    expect(await until(() => sseClientCount(collector.deps.events) === 0)).toBe(true);
  });

  it('resumes after Last-Event-ID with exactly the missed events and no reset', async () => {
    const a = await connect(collector.url);
    await a.sse.nextOf('hello');
    collector.deps.events.publish(scenario('before-1'));
    const last = await a.sse.nextOf('scenario');
    expect(JSON.parse(last.data).scenarioId).toBe('before-1');
    await a.close();
    expect(await until(() => sseClientCount(collector.deps.events) === 0)).toBe(true);

    // While nobody is connected (the lone dashboard's connection dropped), more happens.
    for (const id of ['missed-1', 'missed-2', 'missed-3']) collector.deps.events.publish(scenario(id));

    const b = await connect(collector.url, { 'last-event-id': last.id! });
    const hello = await b.sse.next();
    expect(hello.event).toBe('hello');
    expect((JSON.parse(hello.data) as StreamHello).resumed).toBe(true);
    const replayed = [await b.sse.next(), await b.sse.next(), await b.sse.next()];
    expect(replayed.map((m) => JSON.parse(m.data).scenarioId)).toEqual(['missed-1', 'missed-2', 'missed-3']);
    expect(replayed.map((m) => m.event)).toEqual(['scenario', 'scenario', 'scenario']);
    collector.deps.events.publish(scenario('after'));
    expect(JSON.parse((await b.sse.next()).data).scenarioId).toBe('after');
    await b.close();

    // The dashboard opens a new EventSource (which cannot set headers): the same via ?lastEventId=.
    const res = await fetch(`${collector.url}/api/stream?lastEventId=${encodeURIComponent(replayed[0].id!)}`);
    const c = sseReader(res.body!);
    expect((JSON.parse((await c.next()).data) as StreamHello).resumed).toBe(true);
    expect(JSON.parse((await c.next()).data).scenarioId).toBe('missed-2');
    await c.cancel();
  });

  it('says reset for an id from another process, an id never sent, or garbage', async () => {
    for (const [id, reason] of [
      ['zzzz9999-3', 'restarted'],
      [`${hubOf(collector.deps).boot}-99999999`, 'unknown-id'],
      ['not an id', 'unknown-id'],
    ] as const) {
      const s = await connect(collector.url, { 'last-event-id': id });
      const hello = await s.sse.next();
      expect((JSON.parse(hello.data) as StreamHello).resumed).toBe(false);
      // A fresh id to resume from next time.
      expect(hello.id).toMatch(new RegExp(`^${hubOf(collector.deps).boot}-\\d+$`));
      const reset = await s.sse.next();
      expect(reset.event).toBe('reset');
      expect((JSON.parse(reset.data) as StreamReset).reason).toBe(reason);
      await s.close();
    }
  });

  it('stamps API answers with the stream position, unchanged while nothing happens', async () => {
    const first = await fetch(`${collector.url}/api/sessions`);
    const again = await fetch(`${collector.url}/api/overview`);
    const position = first.headers.get(STREAM_POSITION_HEADER);
    expect(position).toMatch(/^[A-Za-z0-9]+-\d+$/);
    expect(again.headers.get(STREAM_POSITION_HEADER)).toBe(position);
    const s = await connect(collector.url);
    expect((await s.sse.next()).id).toBe(position);
    await s.close();
  });

  it('keeps a viewer through a request touching 1,500 sessions: every session, or one reset instead of too many', async () => {
    const s = await connect(collector.url);
    await s.sse.nextOf('hello');
    const now = BigInt(Date.now()) * 1_000_000n;
    const spans = Array.from({ length: 1500 }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'faultline.session.status',
      kind: 1,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now),
      attributes: [
        { key: 'session.id', value: { stringValue: `burst-${i}` } },
        { key: 'faultline.session.state', value: { stringValue: 'running' } },
      ],
    }));
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'burst' } }] }, scopeSpans: [{ spans }] }] });
    const r = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
    // The write path cuts the request into batches; each coalescing window sends its sessions, or
    // a `reset` when it holds more than the burst limit (1,000).
    const seen = new Set<string>();
    let resets = 0;
    while (seen.size < 1500 && resets === 0) {
      const m = await s.sse.next();
      if (m.event === 'reset') {
        expect((JSON.parse(m.data) as StreamReset).reason).toBe('burst');
        expect(m.id).not.toBeNull();
        resets += 1;
      }
      if (m.event === 'session') seen.add((JSON.parse(m.data) as { session: Session }).session.id);
    }
    // Still connected, still live.
    collector.deps.events.publish(scenario('after-burst'));
    expect(JSON.parse((await s.sse.nextOf('scenario')).data).scenarioId).toBe('after-burst');
    expect(sseDroppedCount(collector.deps.events)).toBe(0);
    await s.close();
  });
});

describe('live stream limits', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { sweepIntervalMs: 600_000, maxSseViewers: 2, sseReplay: 3 });
  });
  afterAll(async () => collector?.close());

  it('answers a viewer beyond FAULTLINE_MAX_SSE_VIEWERS with 503, Retry-After and words, and lets the next one in when one leaves', async () => {
    const a = await connect(collector.url);
    const b = await connect(collector.url);
    await a.sse.nextOf('hello');
    await b.sse.nextOf('hello');
    const third = await fetch(`${collector.url}/api/stream`);
    expect(third.status).toBe(503);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await third.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_viewers');
    expect(body.error.message).toMatch(/already serves 2 live viewers \(FAULTLINE_MAX_SSE_VIEWERS\)/);
    await a.close();
    expect(await until(() => sseClientCount(collector.deps.events) === 1)).toBe(true);
    const c = await connect(collector.url);
    expect(c.res.status).toBe(200);
    await b.close();
    await c.close();
    expect(await until(() => sseClientCount(collector.deps.events) === 0)).toBe(true);
  });

  it('says reset, not a partial replay, when more was missed than the replay buffer holds', async () => {
    const a = await connect(collector.url);
    const hello = await a.sse.nextOf('hello');
    await a.close();
    for (let i = 0; i < 4; i++) collector.deps.events.publish(scenario(`lost-${i}`));
    const b = await connect(collector.url, { 'last-event-id': hello.id! });
    expect((JSON.parse((await b.sse.next()).data) as StreamHello).resumed).toBe(false);
    const reset = await b.sse.next();
    expect(reset.event).toBe('reset');
    expect((JSON.parse(reset.data) as StreamReset).reason).toBe('too-old');
    await b.close();
  });
});

describe('live stream back-pressure', () => {
  it('drops a viewer that stops reading, alone: the reading viewer gets every event', async () => {
    const events = new EventBus();
    const deps = { events, config: { sseViewerBufferBytes: 2_000, sseReplay: 10, maxSseViewers: 10 } } as unknown as CollectorDeps;
    const app = new Hono().route('/stream', streamRoutes(deps));
    // Nobody reads this body: the viewer is stalled from the first byte.
    const stalled = await app.request('/stream');
    const reading = await app.request('/stream');
    expect(stalled.status).toBe(200);
    const sse = sseReader(reading.body!);
    await sse.nextOf('hello');
    expect(sseClientCount(events)).toBe(2);
    const received: string[] = [];
    for (let i = 0; i < 60; i++) {
      events.publish(scenario(`s${String(i).padStart(2, '0')}-${'x'.repeat(40)}`));
      received.push(JSON.parse((await sse.nextOf('scenario')).data).scenarioId);
    }
    expect(received).toHaveLength(60);
    expect(await until(() => sseClientCount(events) === 1)).toBe(true);
    expect(sseDroppedCount(events)).toBe(1);
    await sse.cancel().catch(() => {});
    await stalled.body?.cancel().catch(() => {});
  });
});

describe('coalescing live changes', () => {
  const session = (id: string, state: Session['state']) => ({ id, state }) as unknown as Session;

  it('sends a session changed many times within a window once, in its latest state', async () => {
    const events = new EventBus();
    const got: StreamEvent[] = [];
    events.subscribe((e) => got.push(e));
    let loads = 0;
    const states = new Map<string, Session['state']>();
    const changes = new LiveChanges(events, {
      windowMs: 10_000,
      loadErrors: async (ids) => ids.map((id) => ({ id, sessionId: 's1' }) as unknown as ErrorOccurrence),
      loadSessions: async (ids) => {
        loads += 1;
        return ids.map((id) => session(id, states.get(id)!));
      },
      reset: () => got.push({ type: 'scenario', scenarioId: 'reset' }),
    });
    for (const state of ['starting', 'running', 'retrying', 'error'] as const) {
      states.set('s1', state);
      changes.add(state === 'error' ? ['e1'] : [], ['s1']);
    }
    await changes.flush();
    expect(got.map((e) => e.type)).toEqual(['occurrence', 'session']);
    expect(got[1].type === 'session' && got[1].session.state).toBe('error');
    expect(loads).toBe(1);
    await changes.close();
  });

  it('loads nothing while nobody listens, and says so to the stream', async () => {
    const events = new EventBus();
    let loads = 0;
    const changes = new LiveChanges(events, {
      loadErrors: async () => [],
      loadSessions: async () => {
        loads += 1;
        return [];
      },
      reset: () => {},
    });
    changes.add([], ['s1']);
    await changes.flush();
    expect(loads).toBe(0);
    expect(events.unobserved).toBe(1);
  });
});
