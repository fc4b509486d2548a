import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { createLive, type LiveOptions } from './live.ts';
import { setToken } from './api.ts';
import { FakeEventSource, makeError, stuckStarting } from '../test/fixtures.ts';

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
});
afterEach(() => setToken(null));

/** API answers' stream positions, as api.ts reports them. */
function positions() {
  let report: (position: string) => void = () => {};
  return { option: ((fn) => (report = fn)) as LiveOptions['positions'], answer: (p: string) => report(p) };
}

function start(extra: Partial<LiveOptions> = {}) {
  const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, minDelayMs: 1000, maxDelayMs: 8000, offlineAfter: 3, positions: () => {}, ...extra });
  live.start();
  return live;
}

describe('live', () => {
  it('delivers stuck sessions and occurrences to subscribers of those types only', () => {
    const live = start();
    const stuck = vi.fn();
    const occurrences = vi.fn();
    live.on(['stuck'], stuck);
    live.on(['occurrence'], occurrences);
    FakeEventSource.latest().open();
    expect(get(live.status)).toBe('live');

    FakeEventSource.latest().send('stuck', { type: 'stuck', session: stuckStarting }, 'b-1');
    FakeEventSource.latest().send('occurrence', { type: 'occurrence', occurrence: makeError() }, 'b-2');
    FakeEventSource.latest().send('message', { type: 'occurrence', occurrence: makeError({ id: 'err_2' }) }, 'b-3');

    expect(stuck).toHaveBeenCalledTimes(1);
    expect(stuck.mock.calls[0][0].session.id).toBe('sess_stuck');
    expect(occurrences).toHaveBeenCalledTimes(2);
    expect(get(live.lastEventAt)).not.toBeNull();
  });

  it('listens for every event type the contract names, and for none a browser reserves', () => {
    start();
    const names = [...FakeEventSource.latest().listeners.keys()];
    expect(names).toEqual(expect.arrayContaining(['session', 'occurrence', 'stuck', 'scenario', 'hello', 'reset']));
    expect(names).not.toContain('error');
  });

  it('does not refetch on the first open when nothing changed since the page fetched', () => {
    const p = positions();
    const live = start({ positions: p.option });
    const resync = vi.fn();
    live.on(['resync'], resync);
    p.answer('boot-7'); // the page's first fetch
    FakeEventSource.latest().open({ id: 'boot-7' });
    p.answer('boot-7'); // a fetch answered after the stream opened
    expect(resync).not.toHaveBeenCalled();
  });

  it('refetches once on the first open when something changed between the page fetch and the stream', () => {
    const p = positions();
    const live = start({ positions: p.option });
    const resync = vi.fn();
    live.on(['resync'], resync);
    p.answer('boot-7');
    FakeEventSource.latest().open({ id: 'boot-9' });
    expect(resync).toHaveBeenCalledTimes(1);
  });

  it('reconnects with growing delays, says offline after repeated failures, and resumes after the last id without a refetch', () => {
    const live = start();
    const resync = vi.fn();
    live.on(['resync'], resync);
    FakeEventSource.latest().open({ id: 'boot-3' });
    FakeEventSource.latest().send('scenario', { type: 'scenario', scenarioId: 'x' }, 'boot-4');
    expect(resync).not.toHaveBeenCalled();

    FakeEventSource.latest().fail();
    expect(FakeEventSource.latest().closed).toBe(true);
    expect(get(live.status)).toBe('reconnecting');
    expect(FakeEventSource.all).toHaveLength(1);
    vi.advanceTimersByTime(1300); // 1 s ± 20 %
    expect(FakeEventSource.all).toHaveLength(2);
    // A new EventSource sends no Last-Event-ID header: the id goes in the URL.
    expect(FakeEventSource.latest().url).toBe('/api/stream?lastEventId=boot-4');

    FakeEventSource.latest().fail();
    vi.advanceTimersByTime(1300);
    expect(FakeEventSource.all).toHaveLength(2); // second delay is ~2 s
    vi.advanceTimersByTime(1200);
    expect(FakeEventSource.all).toHaveLength(3);

    FakeEventSource.latest().fail();
    expect(get(live.status)).toBe('offline');

    vi.advanceTimersByTime(5000);
    FakeEventSource.latest().open({ resumed: true });
    expect(get(live.status)).toBe('live');
    expect(resync).not.toHaveBeenCalled();
    FakeEventSource.latest().send('scenario', { type: 'scenario', scenarioId: 'y' }, 'boot-5');
    FakeEventSource.latest().fail();
    vi.advanceTimersByTime(1300);
    expect(FakeEventSource.latest().url).toBe('/api/stream?lastEventId=boot-5');
  });

  it('refetches when the collector says reset (the gap was too long, or it restarted)', () => {
    const live = start();
    const resync = vi.fn();
    live.on(['resync'], resync);
    FakeEventSource.latest().open({ id: 'new-1' });
    FakeEventSource.latest().send('reset', { reason: 'restarted', message: 'The collector restarted' });
    expect(resync).toHaveBeenCalledTimes(1);
  });

  it('opens the stream with a fresh ticket per connection, never with the token in the URL', async () => {
    setToken('t0k en');
    const tickets = ['tkt-1', 'tkt-2'];
    const ticket = vi.fn(async () => tickets.shift()!);
    const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, ticket, positions: () => {} });
    live.start();
    await vi.waitFor(() => expect(FakeEventSource.all).toHaveLength(1));
    expect(FakeEventSource.latest().url).toBe('/api/stream?ticket=tkt-1');
    FakeEventSource.latest().open({ id: 'b-2' });
    live.restart();
    await vi.waitFor(() => expect(FakeEventSource.all).toHaveLength(2));
    expect(FakeEventSource.all[0].closed).toBe(true);
    expect(FakeEventSource.latest().url).toBe('/api/stream?lastEventId=b-2&ticket=tkt-2');
    for (const es of FakeEventSource.all) expect(es.url).not.toContain('t0k');
    expect(ticket).toHaveBeenCalledTimes(2);
    live.stop();
  });

  it('retries with backoff when no ticket can be had', async () => {
    setToken('t0ken');
    const ticket = vi.fn(async () => {
      throw new Error('401');
    });
    const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, ticket, minDelayMs: 1000, positions: () => {} });
    live.start();
    await vi.waitFor(() => expect(get(live.status)).toBe('reconnecting'));
    expect(FakeEventSource.all).toHaveLength(0);
    vi.advanceTimersByTime(1300);
    await vi.waitFor(() => expect(ticket).toHaveBeenCalledTimes(2));
    live.stop();
  });

  it('stops cleanly', () => {
    const live = start();
    live.stop();
    expect(FakeEventSource.latest().closed).toBe(true);
    expect(get(live.status)).toBe('offline');
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.all).toHaveLength(1);
  });
});
