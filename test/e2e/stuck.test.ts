/**
 * A runtime killed mid-run sends nothing more: the collector must notice the silence and flag the
 * session stuck (AGT-SESSION-STUCK, running_silent) within its threshold + one sweep + slack.
 * The runtime is a real child process using the SDK, killed with SIGKILL (no shutdown, no flush).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCatalogEntry, renderUserMessage, type ErrorOccurrence, type Session } from '@faultline/schema';
import { STORAGES } from '../../collector/src/testing.ts';
import { RestartableCollector, getJson, runTs, sleep, tempDir, waitFor } from './support.ts';

const STUCK_AFTER_MS = 1500;
const SWEEP_MS = 250;
const HEARTBEAT_MS = 200;
// Polling (50 ms), the last in-flight batch and a busy CI machine.
const SLACK_MS = 1000;

describe.each(STORAGES)('a runtime killed mid-run is flagged stuck on $name', (storage) => {
  let collector: RestartableCollector;
  const tmp = tempDir('stuck');

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage, { sweepIntervalMs: SWEEP_MS });
  });
  afterAll(async () => {
    await collector?.close();
    tmp.remove();
  });

  it('flags the silent session within threshold + sweep + slack, once, and says so in words', async () => {
    const id = `killed-${randomUUID()}`;
    const runtime = runTs('test/e2e/fixtures/silent-runtime.ts', {
      FAULTLINE_ENDPOINT: collector.url,
      TMPDIR: tmp.path,
      SESSION_ID: id,
      STUCK_AFTER_MS: String(STUCK_AFTER_MS),
      HEARTBEAT_MS: String(HEARTBEAT_MS),
    });
    try {
      await runtime.line(/^ready /);
      // Alive for longer than its threshold: heartbeats keep it from being flagged.
      await sleep(STUCK_AFTER_MS + 4 * SWEEP_MS);
      const alive = (await collector.session(id)).session;
      expect(alive).toMatchObject({ state: 'running', stuck: false, statusMessage: 'Working…' });
      const beatsWhileAlive = (await collector.session(id)).timeline.filter((i) => i.kind === 'heartbeat').length;
      expect(beatsWhileAlive).toBeGreaterThanOrEqual(5);
    } finally {
      runtime.child.kill('SIGKILL');
    }
    const killedAt = Date.now();
    expect((await runtime.exited).signal).toBe('SIGKILL');

    const stuck = await waitFor(
      'the stuck flag',
      async () => {
        const s = (await collector.session(id)).session;
        return s.stuck ? s : undefined;
      },
      STUCK_AFTER_MS + SWEEP_MS + 10_000,
    );
    const detectMs = Date.now() - killedAt;
    const silentForMs = Date.parse(stuck.stuckSince!) - Date.parse(stuck.lastSeenAt);
    console.log(
      `[${storage.name}] stuck detected ${detectMs} ms after SIGKILL (threshold ${STUCK_AFTER_MS} ms, sweep ${SWEEP_MS} ms); ` +
        `flagged ${silentForMs} ms after the last span`,
    );
    expect(detectMs).toBeLessThanOrEqual(STUCK_AFTER_MS + SWEEP_MS + SLACK_MS);
    // Not early: the session was silent for at least its own threshold when flagged.
    expect(silentForMs).toBeGreaterThanOrEqual(STUCK_AFTER_MS);
    expect(silentForMs).toBeLessThanOrEqual(STUCK_AFTER_MS + SWEEP_MS + SLACK_MS);

    const entry = getCatalogEntry('AGT-SESSION-STUCK')!;
    expect(stuck).toMatchObject<Partial<Session>>({ state: 'running', stuck: true, stuckKind: 'running_silent', service: 'silent-runtime' });
    expect(stuck.lastError).toMatchObject({ code: 'AGT-SESSION-STUCK', category: 'session', message: renderUserMessage(entry) });
    expect(stuck.lastHeartbeat?.details).toMatchObject({ events_processed: 3, phase: 'tool_calls' });

    // One occurrence per stall, even after more sweeps.
    await sleep(4 * SWEEP_MS);
    const { items } = await getJson<{ items: ErrorOccurrence[] }>(`${collector.url}/api/errors?session=${encodeURIComponent(id)}`);
    expect(items.map((e) => e.code)).toEqual(['AGT-SESSION-STUCK']);
    expect(items[0].technicalMessage).toContain('running');
    const listed = await collector.sessions('stuck=true');
    expect(listed.map((s) => s.id)).toEqual([id]);
  });
});
