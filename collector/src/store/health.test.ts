import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isUnavailableError, StorageHealth, StorageUnavailableError } from './health.ts';

/**
 * The breaker's state machine with a probe we control (the real probe against a stopped and a
 * frozen Postgres is exercised in test/faults/db-outage.test.ts).
 */
function controlledProbe() {
  const state = { mode: 'answer' as 'answer' | 'hang' | 'refuse', calls: 0 };
  const probe = async (signal: AbortSignal) => {
    state.calls++;
    if (state.mode === 'answer') return;
    if (state.mode === 'refuse') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  };
  return { state, probe };
}

const until = async (what: () => boolean, ms = 3000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await sleep(10);
  return what();
};

describe('StorageHealth', () => {
  it('opens when the database stops answering, answers a waiting operation 503 at once, and closes when it answers again', async () => {
    const { state, probe } = controlledProbe();
    const health = new StorageHealth('postgres', probe, { probeTimeoutMs: 200 });
    health.start();
    try {
      expect(await until(() => state.calls > 2)).toBe(true);
      expect(health.status()).toMatchObject({ kind: 'postgres', state: 'up', error: null });

      // An operation on a frozen server never settles; it is answered when the breaker opens.
      const waiting = health.guard(() => new Promise(() => {}));
      const started = Date.now();
      state.mode = 'hang';
      await expect(waiting).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(health.status()).toMatchObject({ state: 'down', error: 'no answer to a health probe within 200 ms' });
      // While open nothing reaches the database.
      let ran = false;
      await expect(health.guard(async () => (ran = true))).rejects.toThrow(/The database is unavailable .*Retry after 2 s/);
      expect(ran).toBe(false);

      state.mode = 'answer';
      expect(await until(() => health.up)).toBe(true);
      expect(await health.guard(async () => 'stored')).toBe('stored');
      expect(health.stats.trips).toBe(1);
    } finally {
      health.stop();
    }
  });

  it('opens on a refused connection, from the probe or from an operation', async () => {
    const { state, probe } = controlledProbe();
    const health = new StorageHealth('postgres', probe, { probeTimeoutMs: 200 });
    const refused = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    await expect(health.guard(async () => Promise.reject(refused))).rejects.toBeInstanceOf(StorageUnavailableError);
    expect(health.up).toBe(false);
    health.start();
    expect(await until(() => health.up)).toBe(true);
    state.mode = 'refuse';
    expect(await until(() => !health.up)).toBe(true);
    expect(health.status().error).toMatch(/ECONNREFUSED/);
    health.stop();
  });

  it('does not take a busy event loop for a frozen database', async () => {
    // The probe is a real round trip over loopback; right after sending, this thread is kept busy
    // longer than the probe timeout, so the answer is waiting in the socket when the timer fires.
    const peers: net.Socket[] = [];
    const echo = net.createServer((s) => {
      peers.push(s);
      // A reset at teardown is expected, not an error of the test.
      s.on('error', () => {});
      s.on('data', (d) => s.write(d));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const socket = net.connect((echo.address() as net.AddressInfo).port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    let busyProbes = 0;
    const probe = () =>
      new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write('?');
        setImmediate(() => {
          busyProbes++;
          const end = performance.now() + 300;
          while (performance.now() < end);
        });
      });
    const health = new StorageHealth('postgres', probe, { probeTimeoutMs: 100 });
    health.start();
    try {
      expect(await until(() => busyProbes >= 5)).toBe(true);
      expect(health.stats.trips).toBe(0);
    } finally {
      health.stop();
      socket.end();
      for (const p of peers) p.end();
      await new Promise((r) => echo.close(r));
    }
  });

  it('tells outage errors from bad queries, through Drizzle\'s wrapping', () => {
    expect(isUnavailableError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isUnavailableError(new Error('Failed query', { cause: Object.assign(new Error('write CONNECTION_ENDED'), { code: 'CONNECTION_ENDED' }) }))).toBe(true);
    expect(isUnavailableError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isUnavailableError(new Error('syntax'))).toBe(false);
  });
});
