import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { get } from 'svelte/store';
import { createLive } from './live.ts';
import { setToken } from './api.ts';
import { FakeEventSource, makeError, stuckStarting } from '../test/fixtures.ts';

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
});
afterEach(() => setToken(null));

function start() {
  const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, minDelayMs: 1000, maxDelayMs: 8000, offlineAfter: 3 });
  live.start();
  return live;
}

describe('live', () => {
  it('delivers stuck sessions and errors to subscribers of those types only', () => {
    const live = start();
    const stuck = vi.fn();
    const errors = vi.fn();
    live.on(['stuck'], stuck);
    live.on(['error'], errors);
    FakeEventSource.latest().open();
    expect(get(live.status)).toBe('live');

    FakeEventSource.latest().send('stuck', { type: 'stuck', session: stuckStarting });
    FakeEventSource.latest().send('error', { type: 'error', error: makeError() });
    FakeEventSource.latest().send('message', { type: 'error', error: makeError({ id: 'err_2' }) });

    expect(stuck).toHaveBeenCalledTimes(1);
    expect(stuck.mock.calls[0][0].session.id).toBe('sess_stuck');
    expect(errors).toHaveBeenCalledTimes(2);
    expect(get(live.lastEventAt)).not.toBeNull();
  });

  it('reconnects with growing delays, says offline after repeated failures, and resyncs views once back', () => {
    const live = start();
    const resync = vi.fn();
    live.on(['resync'], resync);
    FakeEventSource.latest().open();
    // The first open resyncs too: views fetched before the stream existed.
    expect(resync).toHaveBeenCalledTimes(1);

    FakeEventSource.latest().fail();
    expect(FakeEventSource.latest().closed).toBe(true);
    expect(get(live.status)).toBe('reconnecting');
    expect(FakeEventSource.all).toHaveLength(1);
    vi.advanceTimersByTime(1300); // 1 s ± 20 %
    expect(FakeEventSource.all).toHaveLength(2);

    FakeEventSource.latest().fail();
    vi.advanceTimersByTime(1300);
    expect(FakeEventSource.all).toHaveLength(2); // second delay is ~2 s
    vi.advanceTimersByTime(1200);
    expect(FakeEventSource.all).toHaveLength(3);

    FakeEventSource.latest().fail();
    expect(get(live.status)).toBe('offline');

    vi.advanceTimersByTime(5000);
    FakeEventSource.latest().open();
    expect(get(live.status)).toBe('live');
    expect(resync).toHaveBeenCalledTimes(2);
  });

  it('opens the stream with a fresh ticket per connection, never with the token in the URL', async () => {
    setToken('t0k en');
    const tickets = ['tkt-1', 'tkt-2'];
    const ticket = vi.fn(async () => tickets.shift()!);
    const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, ticket });
    live.start();
    await vi.waitFor(() => expect(FakeEventSource.all).toHaveLength(1));
    expect(FakeEventSource.latest().url).toBe('/api/stream?ticket=tkt-1');
    live.restart();
    await vi.waitFor(() => expect(FakeEventSource.all).toHaveLength(2));
    expect(FakeEventSource.all[0].closed).toBe(true);
    expect(FakeEventSource.latest().url).toBe('/api/stream?ticket=tkt-2');
    for (const es of FakeEventSource.all) expect(es.url).not.toContain('t0k');
    expect(ticket).toHaveBeenCalledTimes(2);
    live.stop();
  });

  it('retries with backoff when no ticket can be had', async () => {
    setToken('t0ken');
    const ticket = vi.fn(async () => {
      throw new Error('401');
    });
    const live = createLive({ EventSourceImpl: FakeEventSource as unknown as typeof EventSource, ticket, minDelayMs: 1000 });
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
