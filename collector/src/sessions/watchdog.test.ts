import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ATTR, SPAN } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STORAGES)('wall-clock stuck detection on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 200, stuckWallclockMs: 1500 });
  });
  afterAll(async () => collector?.close());

  const row = async (id: string) =>
    (await collector.deps.store.query<{ stuck: boolean; stuck_kind: string | null; last_error_code: string | null }>(
      'select stuck, stuck_kind, last_error_code from sessions where id = $1',
      [id],
    ))[0];

  it('flags a session still running past the limit while heartbeats keep coming, once, until its status changes', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'forgetful-runtime' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }))],
    });
    const tracer = provider.getTracer('watchdog-test');
    const id = 'forgot-terminal-status';
    const send = async (name: string, attributes: Record<string, string | number>) => {
      tracer.startSpan(name, { attributes: { [ATTR.sessionId]: id, ...attributes } }).end();
      await provider.forceFlush();
    };
    // The limit counts from the status span's own start time, so the clock starts before it is
    // sent (its export can take a few hundred ms on a busy machine).
    const started = Date.now();
    await send(SPAN.status, { [ATTR.sessionState]: 'running' });
    // Heartbeats every 300 ms: never silent, so only the wall clock can catch it.
    let flaggedAfter: number | null = null;
    while (Date.now() - started < 6000) {
      await send(SPAN.heartbeat, { 'faultline.heartbeat.phase': 'tool_calls' });
      const r = await row(id);
      if (r.stuck) {
        flaggedAfter ??= Date.now() - started;
        expect(r).toMatchObject({ stuck_kind: 'running_wallclock', last_error_code: 'AGT-SESSION-STUCK' });
      }
      if (flaggedAfter !== null && Date.now() - started > flaggedAfter + 1000) break;
      await sleep(300);
    }
    expect(flaggedAfter).not.toBeNull();
    expect(flaggedAfter!).toBeGreaterThanOrEqual(1400);
    // Heartbeats after the flag did not clear it, and there is one occurrence for this stall.
    expect((await row(id)).stuck).toBe(true);
    const occurrences = await collector.deps.store.query<{ n: number }>(
      "select count(*)::int as n from errors where session_id = $1 and code = 'AGT-SESSION-STUCK'",
      [id],
    );
    expect(occurrences[0].n).toBe(1);

    await send(SPAN.status, { [ATTR.sessionState]: 'completed' });
    expect(await row(id)).toMatchObject({ stuck: false, stuck_kind: null });
    await provider.shutdown();
  });
});
