import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCatalogEntry, renderUserMessage, type LatestOutput, type Page, type Session, type SessionDetail } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { markStuckSessions } from '../sessions/watchdog.ts';
import { AgentTelemetry, BILLING_TEXT, getJson } from './agent-telemetry.ts';

const PAGED = 23;

describe.each(STORAGES)('sessions API on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  let firstTraceOfSearched = '';
  let lastTraceOfSearched = '';
  const base = Date.now() - 30 * 60_000;
  const at = (seconds: number) => new Date(base + seconds * 1000);
  const list = (query: string) => getJson<Page<Session>>(`${api}/sessions?${query}`);
  const ids = async (query: string) => {
    const { status, body } = await list(query);
    expect(status).toBe(200);
    return body.items.map((s) => s.id);
  };

  beforeAll(async () => {
    // The watchdog is triggered by hand below, so nothing turns stuck behind a test's back.
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    const t = new AgentTelemetry(collector.url);

    // The seed-001 session: running, a turn with output, then the provider says "no credits".
    t.status('sess-billing', 'starting', at(0), { service: 'support-bot', message: 'Creating execution environment...' });
    t.status('sess-billing', 'running', at(1), { service: 'support-bot' });
    t.heartbeat('sess-billing', at(2), { events_processed: 12, phase: 'indexing' }, { service: 'support-bot' });
    t.turn('sess-billing', at(3), at(5), { service: 'support-bot', output: 'Here is the plan for your refactor.' });
    t.billingError('sess-billing', at(6), at(7), { service: 'support-bot' });
    t.status('sess-billing', 'error', at(8), { service: 'support-bot', message: 'Out of credits' });

    // Failed earlier, then a later turn answered: the output is newer than the error.
    t.billingError('sess-recovered', at(10), at(11));
    t.turn('sess-recovered', at(12), at(14), { output: 'Recovered: done.' });
    t.status('sess-recovered', 'completed', at(15));

    t.status('sess-waiting', 'waiting_input', at(20), { message: 'Waiting for approval' });

    // Went silent while running half an hour ago: the watchdog will flag it.
    t.status('sess-silent', 'running', at(21), { service: 'worker' });
    t.heartbeat('sess-silent', at(22), { phase: 'clone' }, { service: 'worker' });

    // Found by the trace id a customer quotes, which is not the session's latest trace.
    firstTraceOfSearched = t.turn('sess-searched', at(30), at(31));
    lastTraceOfSearched = t.status('sess-searched', 'completed', at(32));

    // Many finished sessions for paging, five of them sharing one last-seen time (ties on the sort key).
    for (let i = 0; i < PAGED; i++) t.status(`sess-page-${String(i).padStart(2, '0')}`, 'completed', at(i < 5 ? 40 : 40 + i));
    await t.flush();
    await t.shutdown();
    await markStuckSessions(collector.deps.store, collector.deps.config.stuckThresholdsMs, collector.deps.config.stuckWallclockMs);
  });
  afterAll(async () => collector?.close());

  it('lists a billing failure as failed, with its code and the friendly message', async () => {
    const { body } = await list('failed=true');
    expect(body.items.map((s) => s.id)).toEqual(['sess-billing']);
    const s = body.items[0];
    expect(s.state).toBe('error');
    expect(s.service).toBe('support-bot');
    expect(s.lastError?.code).toBe('AGT-PROVIDER-BILLING');
    expect(s.lastError?.category).toBe('provider');
    expect(s.lastError?.message).toBe(renderUserMessage(getCatalogEntry('AGT-PROVIDER-BILLING')!, { provider: 'anthropic', model: 'claude-sonnet-4-5' }));
    expect(s.lastError?.message).toMatch(/Anthropic .*out of credits/);
    expect(s.lastError?.message).not.toContain('credit balance');
    expect(s.errorCount).toBe(1);
    expect(s.statusMessage).toBe('Out of credits');
  });

  it('filters by state, stuck, code and service', async () => {
    expect(await ids('state=waiting_input')).toEqual(['sess-waiting']);
    expect(await ids('stuck=true')).toEqual(['sess-silent']);
    expect(await ids('code=AGT-PROVIDER-BILLING')).toEqual(['sess-recovered', 'sess-billing']);
    // A code the session hit before it recovered still finds it; case does not matter.
    expect(await ids('code=agt-provider-billing&state=completed')).toEqual(['sess-recovered']);
    expect(await ids('code=AGT-SESSION-STUCK')).toEqual(['sess-silent']);
    expect(await ids('service=worker')).toEqual(['sess-silent']);
    expect(await ids('service=support-bot&failed=true')).toEqual(['sess-billing']);
    expect(await ids('service=nobody')).toEqual([]);
    const notFailed = await ids('failed=false&limit=500');
    expect(notFailed).not.toContain('sess-billing');
    expect(notFailed).toContain('sess-waiting');
  });

  it('finds a session by id, id prefix, its latest trace id, or any trace it took part in', async () => {
    expect(await ids('q=sess-searched')).toEqual(['sess-searched']);
    expect(await ids('q=sess-bil')).toEqual(['sess-billing']);
    expect(await ids(`q=${lastTraceOfSearched}`)).toEqual(['sess-searched']);
    expect(await ids(`q=${firstTraceOfSearched.toUpperCase()}`)).toEqual(['sess-searched']);
    expect(await ids('q=no-such-session')).toEqual([]);
    // LIKE wildcards in q are literal.
    expect(await ids('q=sess_%25')).toEqual([]);
  });

  it('pages through every session exactly once, newest activity first', async () => {
    const seen: Session[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: Page<Session> } = await list(`limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(4);
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const total = 5 + PAGED;
    expect(seen.map((s) => s.id).sort()).toEqual([...new Set(seen.map((s) => s.id))].sort());
    expect(seen).toHaveLength(total);
    expect(pages).toBe(Math.ceil(total / 4));
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1], seen[i]];
      expect(a.lastSeenAt >= b.lastSeenAt).toBe(true);
      if (a.lastSeenAt === b.lastSeenAt) expect(a.id > b.id).toBe(true);
    }
    // The newest activity first: the paging sessions were last seen after everything else.
    expect(seen[0].id).toBe(`sess-page-${PAGED - 1}`);
  });

  it('shows one session with its timeline in time order', async () => {
    const { status, body } = await getJson<SessionDetail>(`${api}/sessions/sess-billing`);
    expect(status).toBe(200);
    expect(body.session.id).toBe('sess-billing');
    expect(body.timeline.map((i) => [i.kind, i.state ?? i.code ?? i.name])).toEqual([
      ['status', 'starting'],
      ['status', 'running'],
      ['heartbeat', 'faultline.session.heartbeat'],
      ['turn', 'invoke_agent planner'],
      ['error', 'AGT-PROVIDER-BILLING'],
      ['status', 'error'],
    ]);
    const [starting, , heartbeat, turn, error] = body.timeline;
    expect(starting.statusMessage).toBe('Creating execution environment...');
    expect(heartbeat.details).toEqual({ events_processed: 12, phase: 'indexing' });
    expect(turn.durationMs).toBe(2000);
    expect(error.message).toMatch(/out of credits/);
    expect(error.error?.technicalMessage).toBe(BILLING_TEXT);
    expect(error.error?.upstreamStatus).toBe(400);
    expect(error.error?.upstreamType).toBe('invalid_request_error');
    expect(error.statusCode).toBe(2);
  });

  it('puts the watchdog stall into the timeline of a silent session', async () => {
    const { body } = await getJson<SessionDetail>(`${api}/sessions/sess-silent`);
    expect(body.session.stuck).toBe(true);
    expect(body.session.stuckKind).toBe('running_silent');
    expect(body.timeline.map((i) => i.kind)).toEqual(['status', 'heartbeat', 'error']);
    expect(body.timeline[2].code).toBe('AGT-SESSION-STUCK');
  });

  it('says what to tell the customer, claiming no retry the producer did not record', async () => {
    const billing = (await getJson<SessionDetail>(`${api}/sessions/sess-billing`)).body;
    expect(billing.retries).toBe(0);
    expect(billing.customerMessage).toMatch(/^Your request did not finish: .*out of credits/);
    expect(billing.customerMessage).toMatch(/Trying again will not help until the cause is fixed/);
    expect(billing.customerMessage).not.toMatch(/retried/);
    const stuck = (await getJson<SessionDetail>(`${api}/sessions/sess-silent`)).body;
    expect(stuck.customerMessage).toMatch(/^Your request stopped making progress: .*no error was shown to you/);
    const done = (await getJson<SessionDetail>(`${api}/sessions/sess-recovered`)).body;
    expect(done.customerMessage).toMatch(/^Your request finished successfully/);
  });

  it('answers latest with the error when it is newer than the output, and the output when newer', async () => {
    const failed = await getJson<LatestOutput>(`${api}/sessions/sess-billing/latest`);
    expect(failed.status).toBe(200);
    expect(failed.body.kind).toBe('error');
    expect(failed.body.error?.code).toBe('AGT-PROVIDER-BILLING');
    expect(failed.body.text).toMatch(/out of credits/);
    expect(failed.body.state).toBe('error');

    const recovered = await getJson<LatestOutput>(`${api}/sessions/sess-recovered/latest`);
    expect(recovered.body).toMatchObject({ kind: 'output', text: 'Recovered: done.', error: null, state: 'completed' });
    expect(recovered.body.at).toBe(new Date(base + 14_000).toISOString());

    const quiet = await getJson<LatestOutput>(`${api}/sessions/sess-waiting/latest`);
    expect(quiet.body).toMatchObject({ kind: 'none', text: null, error: null, state: 'waiting_input' });
  });

  it('answers 404 for an unknown session', async () => {
    for (const path of ['sessions/nope', 'sessions/nope/latest']) {
      const { status, body } = await getJson<{ error: { code: string; message: string } }>(`${api}/${path}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe('not_found');
      expect(body.error.message).toContain('"nope"');
    }
  });

  it('answers 400 naming the parameter for bad values', async () => {
    for (const [query, param] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['state=broken', 'state'],
      ['stuck=maybe', 'stuck'],
      ['code=AGT-NOT-A-CODE', 'code'],
      ['cursor=not-a-cursor', 'cursor'],
    ]) {
      const { status, body } = await getJson<{ error: { code: string; message: string } }>(`${api}/sessions?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message.startsWith(`${param}:`), body.error.message).toBe(true);
    }
  });
});
