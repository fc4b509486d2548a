import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Overview } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { markStuckSessions } from '../sessions/watchdog.ts';
import { AgentTelemetry, ago, getJson } from './agent-telemetry.ts';

describe.each(STORAGES)('overview API on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  const billingAt = ago(20);
  const overview = async (query = '') => {
    const { status, body } = await getJson<Overview>(`${api}/overview${query}`);
    expect(status).toBe(200);
    return body;
  };

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    const t = new AgentTelemetry(collector.url);
    t.status('running-now', 'running', ago(0, -5000));
    t.status('waiting-now', 'waiting_input', ago(1));
    t.billingError('failed-today', ago(21), ago(21, 500));
    t.billingError('failed-today', ago(20, -1000), billingAt);
    t.status('failed-today', 'error', ago(20, 1000));
    t.billingError('failed-last-week', ago(3 * 24 * 60), ago(3 * 24 * 60, 500));
    t.status('failed-last-week', 'error', ago(3 * 24 * 60, 1000));
    t.timeout('done-today', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', ago(40));
    t.status('done-today', 'completed', ago(39));
    t.status('silent', 'running', ago(30));
    await t.flush();
    await t.shutdown();
    // Flags "silent" (running, no sign of life for 30 minutes) and records AGT-SESSION-STUCK now.
    await markStuckSessions(collector.deps.store, collector.deps.config.stuckThresholdsMs, collector.deps.config.stuckWallclockMs);
  });
  afterAll(async () => collector?.close());

  it('counts sessions, failures, stuck and errors over the last 24 hours', async () => {
    const o = await overview();
    expect(o.window).toBe('24h');
    // active excludes the stuck one: "active now" and "stuck now" are disjoint.
    expect(o.sessions).toEqual({ total: 5, active: 2, failed: 1, stuck: 1 });
    expect(o.errors).toBe(4);
    expect(o.topCodes).toEqual([
      { code: 'AGT-PROVIDER-BILLING', title: 'AI provider account out of credits', category: 'provider', count: 2 },
      { code: 'AGT-SESSION-STUCK', title: expect.any(String), category: 'session', count: 1 },
      { code: 'AGT-TIMEOUT-HEARTBEAT', title: expect.any(String), category: 'timeout', count: 1 },
    ]);
    expect(o.timeouts.find((t) => t.kind === 'heartbeat')).toMatchObject({ count: 1, sessions: 1 });
  });

  it('charts errors per category in 30–60 buckets that add up to the window total', async () => {
    const o = await overview();
    expect(o.series.length).toBeGreaterThanOrEqual(30);
    expect(o.series.length).toBeLessThanOrEqual(60);
    expect(o.series.reduce((n, b) => n + b.total, 0)).toBe(o.errors);
    const times = o.series.map((b) => Date.parse(b.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const billingBucket = o.series.filter((b) => Date.parse(b.at) <= billingAt.getTime()).at(-1)!;
    expect(billingBucket.byCategory.provider).toBe(2);
    expect(o.series.reduce((n, b) => n + b.byCategory.timeout, 0)).toBe(1);
  });

  it('widens to a week', async () => {
    const o = await overview('?window=7d');
    expect(o.sessions).toEqual({ total: 6, active: 2, failed: 2, stuck: 1 });
    expect(o.errors).toBe(5);
    expect(o.topCodes[0]).toMatchObject({ code: 'AGT-PROVIDER-BILLING', count: 3 });
    expect(o.series.reduce((n, b) => n + b.total, 0)).toBe(5);
  });

  it('answers 400 for an unknown window', async () => {
    const { status, body } = await getJson<{ error: { message: string } }>(`${api}/overview?window=forever`);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^window:/);
  });
});
