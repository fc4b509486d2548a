import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMEOUT_KINDS, type TimeoutStat } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { AgentTelemetry, ago, getJson } from './agent-telemetry.ts';

describe.each(STORAGES)('timeouts API on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  const recent = ago(30);
  const stats = async (query = '') => {
    const { status, body } = await getJson<TimeoutStat[]>(`${api}/timeouts${query}`);
    expect(status).toBe(200);
    return new Map(body.map((s) => [s.kind, s]));
  };

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    const t = new AgentTelemetry(collector.url);
    t.timeout('worker-1', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', recent);
    t.timeout('worker-2', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', ago(180));
    t.timeout('queued-1', 'schedule_to_start', 'AGT-TIMEOUT-SCHEDULE-TO-START', ago(2 * 24 * 60));
    t.billingError('billing-1', ago(10), ago(10, 500));
    await t.flush();
    await t.shutdown();
  });
  afterAll(async () => collector?.close());

  it('counts timeouts per kind in the last 24 hours by default, listing every kind', async () => {
    const byKind = await stats();
    expect([...byKind.keys()]).toEqual([...TIMEOUT_KINDS]);
    expect(byKind.get('heartbeat')).toEqual({ kind: 'heartbeat', count: 2, sessions: 2, lastSeen: recent.toISOString(), codes: ['AGT-TIMEOUT-HEARTBEAT'] });
    expect(byKind.get('schedule_to_start')).toEqual({ kind: 'schedule_to_start', count: 0, sessions: 0, lastSeen: null, codes: [] });
  });

  it('narrows and widens with the window', async () => {
    expect((await stats('?window=1h')).get('heartbeat')?.count).toBe(1);
    const week = await stats('?window=7d');
    expect(week.get('heartbeat')?.count).toBe(2);
    expect(week.get('schedule_to_start')).toMatchObject({ count: 1, sessions: 1, codes: ['AGT-TIMEOUT-SCHEDULE-TO-START'] });
  });

  it('lists the sessions one kind hit, most recent first', async () => {
    const { body } = await getJson<TimeoutStat[]>(`${api}/timeouts?kind=heartbeat`);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ kind: 'heartbeat', count: 2 });
    expect(body[0].affectedSessions?.map((s) => s.id)).toEqual(['worker-1', 'worker-2']);
    const none = await getJson<TimeoutStat[]>(`${api}/timeouts?kind=sandbox`);
    expect(none.body).toEqual([{ kind: 'sandbox', count: 0, sessions: 0, lastSeen: null, codes: [], affectedSessions: [] }]);
  });

  it('answers 400 for a window it does not offer', async () => {
    const { status, body } = await getJson<{ error: { message: string } } & TimeoutStat[]>(`${api}/timeouts?window=2h`);
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^window: .*1h, 6h, 24h, 7d/);
  });
});
