import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorGroup, ErrorOccurrence, Page } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { AgentTelemetry, getJson } from './agent-telemetry.ts';

type ApiError = { error: { code: string; message: string } };

describe.each(STORAGES)('errors and groups API on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  let telemetry: AgentTelemetry;
  const base = Date.now() - 60 * 60_000;
  const at = (seconds: number) => new Date(base + seconds * 1000);
  const errorsPage = (query: string) => getJson<Page<ErrorOccurrence>>(`${api}/errors?${query}`);
  const patch = (fingerprint: string, body: string) =>
    getJson<ErrorGroup & ApiError>(`${api}/groups/${encodeURIComponent(fingerprint)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body,
    });

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    telemetry = new AgentTelemetry(collector.url);
    for (const [i, session] of ['s1', 's1', 's2', 's3', 's3'].entries()) telemetry.billingError(session, at(i * 10), at(i * 10 + 1));
    telemetry.timeout('s2', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', at(100));
    telemetry.timeout('s4', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', at(110));
    await telemetry.flush();
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await collector?.close();
  });

  it('lists occurrences newest first and filters by code, category, session and fingerprint', async () => {
    const all = (await errorsPage('')).body.items;
    expect(all.map((e) => e.at)).toEqual([110, 100, 41, 31, 21, 11, 1].map((s) => at(s).toISOString()));
    expect(all[2]).toMatchObject({ code: 'AGT-PROVIDER-BILLING', category: 'provider', title: 'AI provider account out of credits', sessionId: 's3' });

    expect((await errorsPage('code=AGT-TIMEOUT-HEARTBEAT')).body.items.map((e) => e.sessionId)).toEqual(['s4', 's2']);
    expect((await errorsPage('category=timeout')).body.items).toHaveLength(2);
    expect((await errorsPage('session=s2')).body.items.map((e) => e.code)).toEqual(['AGT-TIMEOUT-HEARTBEAT', 'AGT-PROVIDER-BILLING']);
    const fp = all[0].fingerprint;
    expect((await errorsPage(`fingerprint=${encodeURIComponent(fp)}`)).body.items.map((e) => e.sessionId)).toEqual(['s4', 's2']);
  });

  it('pages through every occurrence exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: Page<ErrorOccurrence> } = await errorsPage(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.items.map((e) => e.id));
      cursor = body.nextCursor;
    } while (cursor && seen.length < 100);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('groups occurrences by problem and counts the sessions of each', async () => {
    const { status, body } = await getJson<ErrorGroup[]>(`${api}/groups`);
    expect(status).toBe(200);
    expect(body.map((g) => [g.code, g.count, g.sessions])).toEqual([
      ['AGT-TIMEOUT-HEARTBEAT', 2, 2],
      ['AGT-PROVIDER-BILLING', 5, 3],
    ]);
    expect((await getJson<ErrorGroup[]>(`${api}/groups?code=agt-provider-billing`)).body).toHaveLength(1);
  });

  it('resolves a group, and a new occurrence opens it again', async () => {
    const [billing] = (await getJson<ErrorGroup[]>(`${api}/groups?code=AGT-PROVIDER-BILLING`)).body;
    const resolved = await patch(billing.fingerprint, '{"status":"resolved"}');
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ fingerprint: billing.fingerprint, status: 'resolved', count: 5, regressedAt: null });
    expect((await getJson<ErrorGroup[]>(`${api}/groups?status=resolved`)).body.map((g) => g.fingerprint)).toEqual([billing.fingerprint]);
    expect((await getJson<ErrorGroup[]>(`${api}/groups?status=open`)).body.map((g) => g.code)).toEqual(['AGT-TIMEOUT-HEARTBEAT']);

    telemetry.billingError('s5', at(200), at(201));
    await telemetry.flush();
    const [again] = (await getJson<ErrorGroup[]>(`${api}/groups?code=AGT-PROVIDER-BILLING`)).body;
    expect(again).toMatchObject({ status: 'open', count: 6, sessions: 4 });
    // Reopened by itself: a regression, which the dashboard marks "regressed" until an operator acts.
    expect(again.regressedAt).not.toBeNull();
    const ignored = await patch(billing.fingerprint, '{"status":"ignored"}');
    expect(ignored.body).toMatchObject({ status: 'ignored', regressedAt: null });
    // An ignored group stays ignored when it happens again (only a resolved one regresses).
    telemetry.billingError('s6', at(210), at(211));
    await telemetry.flush();
    const [still] = (await getJson<ErrorGroup[]>(`${api}/groups?code=AGT-PROVIDER-BILLING`)).body;
    expect(still).toMatchObject({ status: 'ignored', regressedAt: null, count: 7 });
  });

  it('rejects bad parameters and bodies, and unknown groups', async () => {
    const badCategory = await getJson<ApiError>(`${api}/errors?category=weather`);
    expect(badCategory.status).toBe(400);
    expect(badCategory.body.error.message).toMatch(/^category:/);
    expect((await getJson<ApiError>(`${api}/groups?status=closed`)).status).toBe(400);

    const [group] = (await getJson<ErrorGroup[]>(`${api}/groups`)).body;
    const badStatus = await patch(group.fingerprint, '{"status":"done"}');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.message).toMatch(/^status:/);
    const notJson = await patch(group.fingerprint, 'resolved');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toContain('{"status":"resolved"}');
    const unknown = await patch('no-such-fingerprint', '{"status":"ignored"}');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});
