import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES, startTestCollector } from './testing.ts';
import type { RunningCollector } from './server.ts';
import { AgentTelemetry, ago } from './api/agent-telemetry.ts';

const TOKEN = 'metrics-test-token-0123456789';

function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    values.set(name, Number(value));
  }
  return values;
}

describe.each(STORAGES)('/metrics on $name', (storage) => {
  let collector: RunningCollector;
  const scrape = async () => {
    const res = await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return parse(await res.text());
  };

  beforeAll(async () => {
    // A fast watchdog, so the silent session below is flagged by the real sweep.
    collector = await startTestCollector(storage, { sweepIntervalMs: 100, apiToken: TOKEN });
  });
  afterAll(async () => collector?.close());

  it('needs the API token', async () => {
    const res = await fetch(`${collector.url}/metrics`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });

  it('reports spans accepted, write batches, stuck sessions and live viewers', async () => {
    const before = await scrape();
    expect(before.get('faultline_spans_accepted_total')).toBe(0);
    expect(before.get('faultline_stuck_sessions')).toBe(0);
    expect(before.get('faultline_sse_clients')).toBe(0);

    const t = new AgentTelemetry(collector.url);
    t.status('m-1', 'running', ago(10));
    t.heartbeat('m-1', ago(9), { phase: 'build' });
    t.status('m-2', 'completed', ago(1));
    await t.flush();
    await t.shutdown();
    // m-1 has been silent in `running` for nine minutes: the next sweep flags it.
    for (let i = 0; i < 100 && (await scrape()).get('faultline_stuck_sessions') !== 1; i++) await new Promise((r) => setTimeout(r, 50));

    const stream = await fetch(`${collector.url}/api/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const reader = stream.body!.getReader();
    await reader.read();

    const after = await scrape();
    expect(after.get('faultline_spans_accepted_total')).toBe(3);
    expect(after.get('faultline_spans_duplicate_total')).toBe(0);
    expect(after.get('faultline_write_batches_total')).toBeGreaterThanOrEqual(1);
    expect(after.get('faultline_write_failures_total')).toBe(0);
    expect(after.get('faultline_ingest_queue_depth')).toBe(0);
    expect(after.get('faultline_write_latency_ms_last')).toBeGreaterThan(0);
    expect(after.get('faultline_stuck_sessions')).toBe(1);
    expect(after.get('faultline_stuck_flagged_total')).toBe(1);
    expect(after.get('faultline_sse_clients')).toBe(1);
    expect(after.has('faultline_spans_rejected_total')).toBe(true);
    await reader.cancel();
  });
});
