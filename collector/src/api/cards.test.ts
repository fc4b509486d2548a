/**
 * Numbers that mean what they say: every Overview card's number is the `total` of the list its
 * link opens (OVERVIEW_CARDS / cardHref in the contract), in every window and with or without
 * test data; stuck and active are disjoint; the Timeouts chart and the list under it count one
 * thing; a plain OpenTelemetry session that succeeded after an error is not "failed"; test and
 * demo data stay out of counts unless asked for; and an operator can acknowledge or dismiss a
 * stall, while sessions silent for days are marked abandoned instead of spiking "stuck".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OVERVIEW_CARDS,
  WINDOW_NAMES,
  cardHref,
  derivedOutcome,
  type CountedPage,
  type ErrorOccurrence,
  type Overview,
  type Session,
} from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { markStuckSessions } from '../sessions/watchdog.ts';
import { AgentTelemetry, ago, getJson } from './agent-telemetry.ts';

/** A producer with nothing Faultline in it: the official OTel SDK, gen_ai attributes only. */
class PlainOtel {
  private provider: BasicTracerProvider;
  constructor(url: string) {
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'plain-otel-chat' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
    });
  }
  call(conversation: string, start: Date, outcome: 'ok' | 429) {
    const attributes: Attributes = {
      'gen_ai.conversation.id': conversation,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
    };
    const s = this.provider.getTracer('plain').startSpan('chat gpt-4o', { startTime: start, attributes }, ROOT_CONTEXT);
    const end = new Date(start.getTime() + 400);
    if (outcome === 429) {
      s.setAttribute('http.response.status_code', 429);
      s.recordException(Object.assign(new Error('429 Rate limit reached for gpt-4o'), { name: 'RateLimitError' }), end);
      s.setStatus({ code: SpanStatusCode.ERROR, message: '429 Rate limit reached for gpt-4o' });
    }
    s.end(end);
  }
  flush = () => this.provider.forceFlush();
  shutdown = () => this.provider.shutdown();
}

describe.each(STORAGES)('overview cards and their lists on $name', (storage) => {
  let collector: RunningCollector;
  let api: string;
  const sweep = () =>
    markStuckSessions(collector.deps.store, collector.deps.config.stuckThresholdsMs, collector.deps.config.stuckWallclockMs, undefined, 24 * 3_600_000);
  const sessions = async (query: string) => {
    const { status, body } = await getJson<CountedPage<Session>>(`${api}/sessions?${query}&limit=500`);
    expect(status, query).toBe(200);
    return body;
  };
  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${api}${path}`, { method: 'POST', body, headers });

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    api = `${collector.url}/api`;
    const t = new AgentTelemetry(collector.url);
    t.status('running-now', 'running', ago(0, -5000));
    t.status('waiting-now', 'waiting_input', ago(1));
    t.billingError('failed-today', ago(21), ago(20));
    t.status('failed-today', 'error', ago(20, 1000));
    t.billingError('failed-last-week', ago(3 * 24 * 60), ago(3 * 24 * 60, 500));
    t.status('failed-last-week', 'error', ago(3 * 24 * 60, 1000));
    t.timeout('done-today', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', ago(40));
    t.status('done-today', 'completed', ago(39));
    // A provider timeout: category provider, timeout kind set. The chart and the list both count it.
    t.timeout('provider-slow', 'provider', 'AGT-PROVIDER-TIMEOUT', ago(35));
    t.status('silent', 'running', ago(30));
    t.status('silent-to-dismiss', 'running', ago(29));
    t.status('silent-to-ack', 'running', ago(28));
    // Silent for two days before the collector (re)started: abandoned, never a fresh stall.
    t.status('gone-for-the-weekend', 'running', ago(2 * 24 * 60));
    // Test and demo data: a scenario session that failed, the example runtime running.
    t.billingError('scn-billing-run', ago(10), ago(10, 300), { service: 'faultline-scenarios' });
    t.status('scn-billing-run', 'error', ago(10, 500), { service: 'faultline-scenarios' });
    t.status('example-run', 'running', ago(0, -5000), { service: 'example-agent-runtime' });
    await t.flush();
    await t.shutdown();
    const plain = new PlainOtel(collector.url);
    // A 429 then three good calls: recovered. A good call then a 429: failed.
    plain.call('conv-recovered', ago(15), 429);
    for (const m of [14, 13, 12]) plain.call('conv-recovered', ago(m), 'ok');
    plain.call('conv-still-failing', ago(15), 'ok');
    plain.call('conv-still-failing', ago(14), 429);
    await plain.flush();
    await plain.shutdown();
    const first = await sweep();
    expect(first.abandoned).toEqual(['gone-for-the-weekend']);
    expect(first.flagged.sort()).toEqual(['silent', 'silent-to-ack', 'silent-to-dismiss']);
  });
  afterAll(async () => collector?.close());

  it('every card equals the total of the list its link opens, in every window, with and without test data', async () => {
    for (const window of WINDOW_NAMES) {
      for (const includeTest of [false, true]) {
        const { body: o } = await getJson<Overview>(`${api}/overview?window=${window}${includeTest ? '&includeTest=true' : ''}`);
        expect(o.includeTest).toBe(includeTest);
        const numbers = { failed: o.sessions.failed, stuck: o.sessions.stuck, active: o.sessions.active, errors: o.errors };
        for (const card of OVERVIEW_CARDS) {
          const href = cardHref(card, window, includeTest);
          const { status, body } = await getJson<CountedPage<unknown>>(`${api}${href}&limit=500`);
          expect(status, href).toBe(200);
          expect(body.total, `${card.key} card (${window}, test data ${includeTest}) vs ${href}`).toBe(numbers[card.key]);
          expect(body.items.length, href).toBe(body.total);
        }
      }
    }
  });

  it('stuck and active are disjoint, and the abandoned session is neither', async () => {
    const stuck = (await sessions('stuck=true')).items.map((s) => s.id).sort();
    const active = (await sessions('active=true')).items.map((s) => s.id).sort();
    expect(stuck).toEqual(['silent', 'silent-to-ack', 'silent-to-dismiss']);
    expect(active).toEqual(['running-now', 'waiting-now']);
    const gone = (await sessions('q=gone-for-the-weekend')).items[0];
    expect(gone).toMatchObject({ stuck: false, state: 'running' });
    expect(gone.abandonedAt).not.toBeNull();
    // No AGT-SESSION-STUCK occurrence for it: abandoned is not an event.
    const { body: errs } = await getJson<CountedPage<ErrorOccurrence>>(`${api}/errors?session=gone-for-the-weekend`);
    expect(errs.total).toBe(0);
  });

  it('a plain OpenTelemetry session with a later success is recovered, not failed', async () => {
    const failed = (await sessions('failed=true')).items.map((s) => s.id);
    expect(failed).toContain('conv-still-failing');
    expect(failed).not.toContain('conv-recovered');
    const [recovered] = (await sessions('q=conv-recovered')).items;
    expect(recovered.state).toBeNull();
    expect(recovered.lastError?.code).toBeTruthy();
    expect(derivedOutcome(recovered)).toBe('recovered');
    const [failing] = (await sessions('q=conv-still-failing')).items;
    expect(derivedOutcome(failing)).toBe('failed');
  });

  it('the Timeouts chart and the list under it count the same timeouts, provider timeouts included', async () => {
    const { body: o } = await getJson<Overview>(`${api}/overview?window=24h`);
    const charted = o.timeouts.reduce((n, t) => n + t.count, 0);
    const { body: list } = await getJson<CountedPage<ErrorOccurrence>>(`${api}/errors?timeout=true&window=24h`);
    expect(charted).toBe(2);
    expect(list.total).toBe(charted);
    expect(list.items.map((e) => e.category).sort()).toEqual(['provider', 'timeout']);
  });

  it('test and demo data stay out of lists and counts unless included; a search by id still finds them', async () => {
    const ids = (await sessions('')).items.map((s) => s.id);
    expect(ids).not.toContain('scn-billing-run');
    expect(ids).not.toContain('example-run');
    const all = await sessions('includeTest=true');
    expect(all.items.map((s) => s.id)).toEqual(expect.arrayContaining(['scn-billing-run', 'example-run']));
    expect(all.items.find((s) => s.id === 'scn-billing-run')?.testData).toBe(true);
    expect((await sessions('q=scn-billing')).items.map((s) => s.id)).toEqual(['scn-billing-run']);
    const { body: without } = await getJson<Overview>(`${api}/overview?window=1h`);
    const { body: withTest } = await getJson<Overview>(`${api}/overview?window=1h&includeTest=true`);
    expect(withTest.sessions.failed - without.sessions.failed).toBe(1);
    expect(withTest.sessions.active - without.sessions.active).toBe(1);
  });

  it('acknowledge keeps a stall listed and marked; dismiss takes it out of "stuck now" until it stalls again', async () => {
    const ack = await post('/sessions/silent-to-ack/stuck', '{"action":"acknowledge"}');
    expect(ack.status).toBe(200);
    const acked = (await ack.json()) as Session;
    expect(acked).toMatchObject({ stuck: true });
    expect(acked.stuckAcknowledgedAt).not.toBeNull();

    const dismiss = await post('/sessions/silent-to-dismiss/stuck', '{"action":"dismiss"}');
    expect(dismiss.status).toBe(200);
    expect(((await dismiss.json()) as Session).stuck).toBe(false);
    await sweep();
    const stuck = (await sessions('stuck=true')).items.map((s) => s.id).sort();
    expect(stuck).toEqual(['silent', 'silent-to-ack']);
    const { body: o } = await getJson<Overview>(`${api}/overview`);
    expect(o.sessions.stuck).toBe(2);

    // Dismissing what is not stuck says so.
    const again = await post('/sessions/silent-to-dismiss/stuck', '{"action":"dismiss"}');
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/is not stuck/);

    // A new sign of life, then silence again: a new stall, flagged.
    const t = new AgentTelemetry(collector.url);
    t.status('silent-to-dismiss', 'running', ago(5));
    await t.flush();
    await t.shutdown();
    expect((await sweep()).flagged).toEqual(['silent-to-dismiss']);
  });

  it('state-changing calls need JSON and a same-origin page; bad actions and unknown sessions are clear errors', async () => {
    expect((await post('/sessions/silent/stuck', '{"action":"dismiss"}', { 'content-type': 'text/plain' })).status).toBe(415);
    const foreign = await post('/sessions/silent/stuck', '{"action":"dismiss"}', { 'content-type': 'application/json', origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const bad = await post('/sessions/silent/stuck', '{"action":"forget"}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^action: must be one of acknowledge, dismiss/);
    expect((await post('/sessions/no-such-session/stuck', '{"action":"dismiss"}')).status).toBe(404);
    expect((await sessions('stuck=true')).items.map((s) => s.id)).toContain('silent');
  });
});

describe('with an API token', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { apiToken: 'secret-token-for-test-0123456789' });
  });
  afterAll(async () => collector?.close());

  it('running scenarios and dismissing a stall need the token', async () => {
    const run = await fetch(`${collector.url}/api/scenarios/run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(run.status).toBe(401);
    const stuck = await fetch(`${collector.url}/api/sessions/x/stuck`, { method: 'POST', body: '{"action":"dismiss"}', headers: { 'content-type': 'application/json' } });
    expect(stuck.status).toBe(401);
    const withToken = await fetch(`${collector.url}/api/sessions/x/stuck`, {
      method: 'POST',
      body: '{"action":"dismiss"}',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token-for-test-0123456789' },
    });
    expect(withToken.status).toBe(404);
  });
});
