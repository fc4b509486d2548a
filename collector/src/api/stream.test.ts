import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import type { StreamEvent } from '@faultline/schema';
import type { CollectorDeps } from '../deps.ts';
import { EventBus } from '../events.ts';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { sseClientCount, streamRoutes } from './stream.ts';
import { AgentTelemetry } from './agent-telemetry.ts';

interface SseMessage {
  event: string;
  data: string;
}

/** Reads SSE messages off a fetch body, the way a dashboard would. */
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
          return { event, data };
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

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe.each(STORAGES)('live stream on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
  });
  afterAll(async () => collector?.close());

  it('says hello, then delivers an error ingested after connecting, and lets go on disconnect', async () => {
    const abort = new AbortController();
    const res = await fetch(`${collector.url}/api/stream`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const sse = sseReader(res.body!);
    const hello = await sse.next();
    expect(hello.event).toBe('hello');
    expect(Math.abs(Date.parse(JSON.parse(hello.data).serverTime) - Date.now())).toBeLessThan(60_000);
    expect(sseClientCount(collector.deps.events)).toBe(1);

    const t = new AgentTelemetry(collector.url);
    t.billingError('live-1', new Date(Date.now() - 1000), new Date());
    await t.flush();
    await t.shutdown();

    const error = JSON.parse((await sse.nextOf('error')).data) as StreamEvent;
    expect(error.type).toBe('error');
    if (error.type === 'error') {
      expect(error.error.sessionId).toBe('live-1');
      expect(error.error.code).toBe('AGT-PROVIDER-BILLING');
      expect(error.error.message).toMatch(/out of credits/);
    }
    const session = JSON.parse((await sse.nextOf('session')).data) as StreamEvent;
    expect(session.type === 'session' && session.session.lastError?.code).toBe('AGT-PROVIDER-BILLING');

    abort.abort();
    await sse.cancel().catch(() => {});
    expect(await until(() => collector.deps.events.size === 0)).toBe(true);
    expect(sseClientCount(collector.deps.events)).toBe(0);
  });
});

describe('live stream back-pressure', () => {
  it('drops a viewer that stops reading instead of buffering without bound', async () => {
    const events = new EventBus();
    const app = new Hono().route('/stream', streamRoutes({ events } as CollectorDeps, { maxBehind: 5 }));
    // Nobody reads this body: the viewer is stalled from the first byte.
    const res = await app.request('/stream');
    expect(res.status).toBe(200);
    expect(events.size).toBe(1);
    for (let i = 0; i < 5; i++) events.publish({ type: 'scenario', scenarioId: `s${i}` });
    expect(events.size).toBe(1);
    events.publish({ type: 'scenario', scenarioId: 'one too many' });
    expect(events.size).toBe(0);
    expect(await until(() => sseClientCount(events) === 0)).toBe(true);
    await res.body?.cancel().catch(() => {});
  });
});
