/**
 * Alert rules end to end on both storages: a real collector, errors produced by the real SDK
 * (Anthropic's 400 billing error as the SDK throws it), real HTTP receivers. The delivery worker
 * is driven round by round (`runOnce`) on a clock the test moves, so windows and waits cost no
 * sleep. Each rule fires once for its event and resolves once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { init } from '@faultline/sdk';
import { AlertmanagerWebhookShape, DELIVERY_ID_HEADER, SessionWebhookShape, type AlertRule } from '@faultline/schema/api';
import { getCatalogEntry, renderUserMessage } from '@faultline/schema';
import { BadRequestError } from '../../../examples/simulated-failures.ts';
import { STORAGES } from '../testing.ts';
import { testConfig } from '../config.ts';
import { startCollector, type RunningCollector } from '../server.ts';
import { alertApi, startReceiver, type Receiver } from './test-receiver.ts';

const BILLING = getCatalogEntry('AGT-PROVIDER-BILLING')!;

describe.each(STORAGES)('alert rules on $name', (storage) => {
  let collector: RunningCollector;
  let receiver: Receiver;
  let now = Date.now();
  let api: ReturnType<typeof alertApi>;

  beforeAll(async () => {
    receiver = await startReceiver();
    collector = await startCollector(testConfig({ port: 0, host: '127.0.0.1' }), {
      store: await storage.create(),
      alerts: { clock: () => now, worker: false },
    });
    api = alertApi(collector);
  });
  afterAll(async () => {
    await collector?.close();
    await receiver?.close();
  });

  const runtime = () => collector.deps.alerts;
  const service = `billing-${storage.name}`;

  async function failSessions(count: number, prefix: string): Promise<{ message: string }[]> {
    const faultline = init({ serviceName: service, endpoint: collector.url, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
    const payloads = [];
    for (let i = 0; i < count; i++) {
      const session = faultline.startSession({ id: `${prefix}-${i}`, agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
      session.status('running');
      payloads.push(session.fail(new BadRequestError()));
    }
    await faultline.shutdown();
    return payloads;
  }

  it('a burst of 500 errors of one new group: one new-group alert, one error-rate firing, one resolved; resolving the group resolves; a regression fires and resolves', async () => {
    const dest = await api.destination({ name: 'Pager webhook', kind: 'webhook', url: `${receiver.url}/alertmanager`, secret: 'generate' });
    expect(dest.secret).toMatch(/^whsec_/);
    const newGroup = await api.rule({ name: 'New billing problems', kind: 'new_group', destinations: [dest.id], filters: { services: [service] }, groupWaitMs: 0 });
    const regression = await api.rule({ name: 'Billing came back', kind: 'regression', destinations: [dest.id], groupWaitMs: 0 });
    const rate = await api.rule({
      name: 'Billing spike', kind: 'error_rate', destinations: [dest.id], threshold: 100, windowMs: 60_000, filters: { codes: ['agt-provider-billing'] }, groupWaitMs: 0,
    });
    expect(rate.filters.codes).toEqual(['AGT-PROVIDER-BILLING']);

    const clientErrors = await failSessions(500, `burst-${storage.name}`);
    expect(new Set(clientErrors.map((c) => c.message)).size).toBe(1);
    now = Date.now();
    await runtime().runOnce();
    await runtime().runOnce();
    const bodies = receiver.accepted().map((r) => AlertmanagerWebhookShape.parse(r.json));
    expect(bodies).toHaveLength(2);
    const byRule = (id: string) => bodies.filter((b) => b.groupLabels.rule_id === id);
    const [group] = byRule(newGroup.id);
    expect(group.status).toBe('firing');
    expect(group.alerts).toHaveLength(1);
    expect(group.alerts[0]).toMatchObject({
      status: 'firing',
      endsAt: '0001-01-01T00:00:00Z',
      labels: { alertname: 'New billing problems', code: 'AGT-PROVIDER-BILLING', category: 'provider', service, agent: 'assistant' },
      annotations: { description: clientErrors[0].message, support_note: BILLING.supportNote },
      faultline: { kind: 'new_group', code: 'AGT-PROVIDER-BILLING', message: clientErrors[0].message },
    });
    expect(group.alerts[0].dashboardURL).toBe(`${collector.url}/errors?code=AGT-PROVIDER-BILLING`);
    const [spike] = byRule(rate.id);
    expect(spike.alerts[0].faultline).toMatchObject({ count: 500, threshold: 100, windowMs: 60_000 });
    expect(byRule(regression.id)).toHaveLength(0);

    // Signed the Standard Webhooks way: the reference library verifies it with the secret shown once.
    const first = receiver.accepted()[0];
    expect(first.headers['webhook-id']).toBe(first.deliveryId);
    expect(() => new Webhook(dest.secret!).verify(first.body, first.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(first.body, first.headers as Record<string, string>)).toThrow();

    // Still in the window: nothing new. Past it: the rate resolves, once.
    now += 30_000;
    await runtime().runOnce();
    expect(receiver.accepted()).toHaveLength(2);
    now += 31_000;
    await runtime().runOnce();
    await runtime().runOnce();
    expect(receiver.accepted()).toHaveLength(3);
    const resolvedSpike = AlertmanagerWebhookShape.parse(receiver.accepted()[2].json);
    expect(resolvedSpike).toMatchObject({ status: 'resolved', groupLabels: { rule_id: rate.id } });
    expect(resolvedSpike.alerts[0].endsAt).toBe(new Date(now).toISOString());
    expect(resolvedSpike.alerts[0].startsAt).toBe(spike.alerts[0].startsAt);
    expect(resolvedSpike.alerts[0].fingerprint).toBe(spike.alerts[0].fingerprint);

    // The operator resolves the group: the new-group alert resolves.
    const fingerprint = group.alerts[0].labels.group_fingerprint;
    const patch = await fetch(`${collector.url}/api/groups/${fingerprint}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"status":"resolved"}' });
    expect(patch.status).toBe(200);
    await runtime().runOnce();
    expect(receiver.accepted()).toHaveLength(4);
    expect(AlertmanagerWebhookShape.parse(receiver.accepted()[3].json)).toMatchObject({ status: 'resolved', groupLabels: { rule_id: newGroup.id } });

    // It comes back: one regression alert (not a new group); resolved again: the regression resolves.
    await failSessions(3, `again-${storage.name}`);
    await runtime().runOnce();
    expect(receiver.accepted()).toHaveLength(5);
    const back = AlertmanagerWebhookShape.parse(receiver.accepted()[4].json);
    expect(back).toMatchObject({ status: 'firing', groupLabels: { rule_id: regression.id } });
    expect(back.alerts[0].annotations.summary).toContain('Came back after being resolved');
    await fetch(`${collector.url}/api/groups/${fingerprint}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"status":"resolved"}' });
    await runtime().runOnce();
    expect(receiver.accepted().map((r) => AlertmanagerWebhookShape.parse(r.json)).slice(5)).toMatchObject([{ status: 'resolved', groupLabels: { rule_id: regression.id } }]);

    // Every request carried its own delivery id, and the log shows each as sent with the receiver's answer.
    expect(new Set(receiver.received.map((r) => r.headers[DELIVERY_ID_HEADER.toLowerCase()])).size).toBe(6);
    const log = await api.deliveries();
    expect(log).toHaveLength(6);
    expect(log.every((d) => d.status === 'sent' && d.responseStatus === 200 && d.responseBody === 'ok' && d.attempts === 1)).toBe(true);
    const rules = (await api.call<AlertRule[]>('GET', '/rules')).json;
    expect(rules.map((r) => r.firing)).toEqual([0, 0, 0]);
  });

  it('session webhooks: error with the SDK client payload, completed with the latest output, nothing for unwatched states', async () => {
    const hook = await startReceiver();
    try {
      const dest = await api.destination({ name: 'Orchestrator', kind: 'webhook', url: `${hook.url}/faultline` });
      const rule = await api.rule({ name: 'Runs of the planner', kind: 'session_state', destinations: [dest.id], states: ['error', 'completed'], filters: { agents: ['planner'] } });
      expect(rule.groupWaitMs).toBe(0);
      const faultline = init({ serviceName: `orchestrated-${storage.name}`, endpoint: collector.url, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
      const failing = faultline.startSession({ agent: 'planner', provider: 'anthropic', model: 'claude-sonnet-4-5' });
      failing.status('running', 'Planning');
      const client = failing.fail(new BadRequestError());
      const done = faultline.startSession({ agent: 'planner' });
      done.status('running');
      await done.turn('answer', async (turn) => turn.output('Here is the plan.'));
      done.end('completed');
      const other = faultline.startSession({ agent: 'coder' });
      other.status('running');
      other.end('completed');
      await faultline.shutdown();
      await runtime().runOnce();

      const events = hook.accepted().map((r) => SessionWebhookShape.parse(r.json));
      expect(events.map((e) => [e.event, e.session.id]).sort()).toEqual([['completed', done.id], ['error', failing.id]].sort());
      const failed = events.find((e) => e.event === 'error')!;
      // The same words the runtime got from fail(): one definition of what a client is told.
      expect(failed.clientError).toEqual(client);
      expect(failed.clientError!.message).toBe(renderUserMessage(BILLING, { provider: 'anthropic', model: 'claude-sonnet-4-5' }));
      expect(failed.latest).toMatchObject({ kind: 'error', error: client });
      expect(failed.session).toMatchObject({ state: 'error', agent: 'planner', url: `${collector.url}/sessions/${failing.id}` });
      const completed = events.find((e) => e.event === 'completed')!;
      expect(completed).toMatchObject({ clientError: null, latest: { kind: 'output', text: 'Here is the plan.' }, session: { state: 'completed' } });
      // Replayed spans (an SDK retry) are no new change.
      await runtime().runOnce();
      expect(hook.received).toHaveLength(2);
    } finally {
      await hook.close();
    }
  });
});
