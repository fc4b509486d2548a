/**
 * Delivery on both storages against real receivers, on a clock the test moves: a receiver that
 * answers 503 then 200 gets each notification once per delivery id; 429 + Retry-After holds the
 * whole destination back exactly that long; a Slack destination gets at most one message per
 * interval; a receiver that keeps failing is given up after the bounded time and it is recorded;
 * a refusal (404) is not retried. /metrics counts each result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES } from '../testing.ts';
import { testConfig } from '../config.ts';
import { startCollector, type RunningCollector } from '../server.ts';
import { alertApi, startReceiver, type Receiver } from './test-receiver.ts';
import { backoffMs, parseRetryAfter } from './send.ts';

describe('backoff and Retry-After', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    const o = { baseMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((a) => backoffMs(a, { ...o, random: () => 1 }))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(3, { ...o, random: () => 0 })).toBe(2000);
    expect(backoffMs(30, { ...o, random: () => 1 })).toBe(60_000);
  });
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-01T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe.each(STORAGES)('delivery on $name', (storage) => {
  let collector: RunningCollector;
  let now = Date.now();
  let api: ReturnType<typeof alertApi>;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    collector = await startCollector(testConfig({ port: 0, host: '127.0.0.1', deliveryGiveUpMs: 60_000, deliveryTimeoutMs: 2000 }), {
      store: await storage.create(),
      alerts: { clock: () => now, worker: false, backoff: { baseMs: 1000, maxMs: 10_000, random: () => 1 } },
    });
    api = alertApi(collector);
  });
  afterAll(async () => {
    await collector?.close();
    for (const r of receivers) await r.close();
  });

  const run = () => collector.deps.alerts.runOnce();
  const receiver = async (answer: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
  /** A test message queued through the API (its first attempt happens in the next round). */
  const queueTest = async (destinationId: string) => {
    const r = await api.call<{ id: string }>('POST', `/destinations/${destinationId}/test`, {});
    expect(r.status, r.text).toBe(201);
    return r.json.id;
  };
  const delivery = async (id: string) => (await api.call<{ status: string; attempts: number; error: string | null; responseStatus: number | null; nextAttemptAt: string | null }>('GET', `/deliveries/${id}`)).json;

  it('503 then 200: the receiver gets it once per delivery id, with the same id on both attempts', async () => {
    const r = await receiver((req) => (req.attempt === 1 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' }));
    const dest = await api.destination({ name: 'Flaky', kind: 'webhook', url: r.url });
    const ids = [await queueTest(dest.id), await queueTest(dest.id)];
    await run();
    expect(r.received.map((x) => x.status)).toEqual([503, 503]);
    expect((await delivery(ids[0])).status).toBe('retrying');
    expect((await delivery(ids[0])).error).toBe('The receiver answered HTTP 503');
    await run();
    expect(r.received).toHaveLength(2);
    now += 1000;
    await run();
    expect(r.accepted().map((x) => x.deliveryId).sort()).toEqual([...ids].sort());
    expect(r.received.filter((x) => x.deliveryId === ids[0]).map((x) => x.body)).toHaveLength(2);
    const [a, b] = r.received.filter((x) => x.deliveryId === ids[0]);
    expect(a.body).toBe(b.body);
    expect(await delivery(ids[0])).toMatchObject({ status: 'sent', attempts: 2, responseStatus: 200 });
    await run();
    now += 60_000;
    await run();
    expect(r.received).toHaveLength(4);
  });

  it('429 with Retry-After holds the destination back that long, then sends', async () => {
    let requests = 0;
    const r = await receiver(() => (++requests === 1 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '5' } } : { status: 200, body: 'ok' }));
    const dest = await api.destination({ name: 'Limited', kind: 'webhook', url: r.url });
    const first = await queueTest(dest.id);
    await run();
    expect(r.received).toHaveLength(1);
    expect(await delivery(first)).toMatchObject({ status: 'retrying', responseStatus: 429, nextAttemptAt: new Date(now + 5000).toISOString() });
    // Another notification to the same destination waits too: the limit is the receiver's, not the message's.
    const second = await queueTest(dest.id);
    now += 4000;
    await run();
    expect(r.received).toHaveLength(1);
    now += 1000;
    await run();
    await run();
    expect(r.accepted().map((x) => x.deliveryId).sort()).toEqual([first, second].sort());
  });

  it('a Slack destination gets at most one message a second', async () => {
    const r = await receiver(() => ({ status: 200, body: 'ok' }));
    const dest = await api.destination({ name: 'Team Slack', kind: 'slack', url: `${r.url}/services/T000/B000/XXXXSECRET` });
    expect(dest.minIntervalMs).toBe(1000);
    for (let i = 0; i < 3; i++) await queueTest(dest.id);
    await run();
    await run();
    expect(r.received).toHaveLength(1);
    now += 999;
    await run();
    expect(r.received).toHaveLength(1);
    now += 1;
    await run();
    expect(r.received).toHaveLength(2);
    now += 1000;
    await run();
    expect(r.received).toHaveLength(3);
    expect(r.received.every((x) => x.path === '/services/T000/B000/XXXXSECRET')).toBe(true);
  });

  it('gives up after the bounded time and records it; a 404 is not retried; /metrics counts by result', async () => {
    const down = await receiver(() => ({ status: 500, body: 'internal error' }));
    const gone = await receiver(() => ({ status: 404, body: 'no_service' }));
    const downDest = await api.destination({ name: 'Down', kind: 'webhook', url: down.url });
    const goneDest = await api.destination({ name: 'Gone', kind: 'slack', url: `${gone.url}/services/T1/B1/abc` });
    const doomed = await queueTest(downDest.id);
    const refused = await queueTest(goneDest.id);
    await run();
    expect(await delivery(refused)).toMatchObject({ status: 'failed', attempts: 1, responseStatus: 404 });
    expect((await delivery(refused)).error).toMatch(/refused the notification \(HTTP 404\); retrying will not help/);
    // 1, 2, 4, 8, 10, 10 … seconds apart until the minute is over.
    for (let i = 0; i < 20 && (await delivery(doomed)).status === 'retrying'; i++) {
      now += 10_000;
      await run();
    }
    const d = await delivery(doomed);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/^Gave up after \d+ attempts: The receiver answered HTTP 500$/);
    expect(d.attempts).toBe(down.received.length);
    expect(gone.received).toHaveLength(1);
    const failedLog = (await api.deliveries('?status=failed')).map((x) => x.id);
    expect(failedLog.sort()).toEqual([doomed, refused].sort());
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toContain('faultline_alert_deliveries_total{result="failed"} 2');
    expect(metrics).toMatch(/faultline_alert_deliveries_total\{result="retry"\} [1-9]/);
    expect(metrics).toMatch(/faultline_alert_deliveries_total\{result="sent"\} [1-9]/);
  });

  it('never serves or records a destination URL in full', async () => {
    const secretPath = '/services/T0AAA1111/B0BBB2222/abcdefghijklmnopqrstuvwx';
    const r = await receiver(() => ({ status: 400, body: `invalid_payload for ${r.url}${secretPath}` }));
    const dest = await api.destination({ name: 'Leaky', kind: 'slack', url: `${r.url}${secretPath}` });
    expect(dest.url).toBe(`http://127.0.0.1:${new URL(r.url).port}/…uvwx`);
    const id = await queueTest(dest.id);
    await run();
    const answers = [
      (await api.call('GET', '/destinations')).text,
      (await api.call('GET', `/deliveries/${id}`)).text,
      (await api.call('GET', '/deliveries')).text,
      (await api.call('PATCH', `/destinations/${dest.id}`, { name: 'Leaky 2' })).text,
    ];
    for (const a of answers) expect(a).not.toContain('abcdefghijklmnopqrstuvwx');
    expect((await delivery(id)).status).toBe('failed');
  });
});
