import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, type CodeWithStats } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import type { CodeDetail } from '@faultline/schema';
import { AgentTelemetry, getJson } from './agent-telemetry.ts';

describe.each(STORAGES)('codes API on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  const base = Date.now() - 60 * 60_000;
  const at = (seconds: number) => new Date(base + seconds * 1000);

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    const t = new AgentTelemetry(collector.url);
    t.billingError('sess-a', at(0), at(1));
    t.billingError('sess-b', at(10), at(11));
    t.billingError('sess-b', at(20), at(21));
    t.timeout('sess-c', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', at(30));
    await t.flush();
    await t.shutdown();
  });
  afterAll(async () => collector?.close());

  it('lists every catalog entry with live counts, zero where nothing happened', async () => {
    const { status, body } = await getJson<CodeWithStats[]>(`${api}/codes`);
    expect(status).toBe(200);
    expect(body.map((c) => c.code)).toEqual(CATALOG.map((e) => e.code));
    const byCode = new Map(body.map((c) => [c.code, c]));
    expect(byCode.get('AGT-PROVIDER-BILLING')).toMatchObject({
      category: 'provider',
      count: 3,
      sessions: 2,
      lastSeen: at(21).toISOString(),
      retryable: 'no',
    });
    expect(byCode.get('AGT-PROVIDER-BILLING')!.supportNote).toMatch(/credits/);
    expect(byCode.get('AGT-TIMEOUT-HEARTBEAT')).toMatchObject({ count: 1, sessions: 1, timeoutKind: 'heartbeat' });
    expect(byCode.get('AGT-PROVIDER-RATE-LIMIT')).toMatchObject({ count: 0, sessions: 0, lastSeen: null });
  });

  it('shows one code with the sessions it hit, most recent first, and its groups', async () => {
    const { status, body } = await getJson<CodeDetail>(`${api}/codes/agt-provider-billing`);
    expect(status).toBe(200);
    expect(body.code).toBe('AGT-PROVIDER-BILLING');
    expect(body.count).toBe(3);
    expect(body.recentSessions.map((s) => s.id)).toEqual(['sess-b', 'sess-a']);
    expect(body.groups).toHaveLength(1);
    expect(body.groups[0]).toMatchObject({ code: 'AGT-PROVIDER-BILLING', count: 3, sessions: 2, status: 'open' });
  });

  it('answers 404 with a pointer to the catalog for an unknown code', async () => {
    const { status, body } = await getJson<{ error: { code: string; message: string } }>(`${api}/codes/AGT-MADE-UP`);
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toContain('GET /api/codes');
  });
});
