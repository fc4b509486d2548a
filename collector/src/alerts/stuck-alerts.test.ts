/**
 * A stuck-session rule on both storages: the watchdog flags a silent session (its own
 * transaction writes the outbox row), the Slack receiver gets one "stuck" message with the
 * session's friendly words and a link, the orchestrator's webhook one `stuck` event; the session
 * shows life and Slack gets one "resolved" message. Real SDK, real receivers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '@faultline/sdk';
import { getCatalogEntry, STUCK_CODE } from '@faultline/schema';
import { SessionWebhookShape, type AlertRule } from '@faultline/schema/api';
import { STORAGES } from '../testing.ts';
import { testConfig } from '../config.ts';
import { startCollector, type RunningCollector } from '../server.ts';
import { alertApi, expectValidBlockKit, startReceiver, type Receiver } from './test-receiver.ts';
import type { SlackMessage } from './slack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STORAGES)('stuck-session alerts on $name', (storage) => {
  let collector: RunningCollector;
  let slack: Receiver;
  let orchestrator: Receiver;

  beforeAll(async () => {
    slack = await startReceiver();
    orchestrator = await startReceiver();
    collector = await startCollector(
      testConfig({ port: 0, host: '127.0.0.1', sweepIntervalMs: 200, stuckThresholdsMs: { starting: 1000, running: 1000, retrying: 1000 } }),
      { store: await storage.create(), alerts: { worker: false } },
    );
  });
  afterAll(async () => {
    await collector?.close();
    await slack?.close();
    await orchestrator?.close();
  });

  it('one stuck message with the friendly words and a link, one resolved when the session shows life', async () => {
    const api = alertApi(collector);
    const slackDest = await api.destination({ name: 'On-call Slack', kind: 'slack', url: `${slack.url}/services/T01/B01/secretsecret` });
    const hookDest = await api.destination({ name: 'Orchestrator', kind: 'webhook', url: `${orchestrator.url}/hook` });
    const rule = await api.rule({ name: 'Stuck runs', kind: 'stuck_session', destinations: [slackDest.id], groupWaitMs: 0 });
    await api.rule({ name: 'Run changes', kind: 'session_state', destinations: [hookDest.id], states: ['stuck'] });

    const faultline = init({ serviceName: `stuck-${storage.name}`, endpoint: collector.url, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
    const session = faultline.startSession({ agent: 'researcher', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    session.status('running', 'Working for you…');
    await faultline.flush();
    const busy = faultline.startSession({ agent: 'researcher' });
    busy.status('running');
    let stuck = false;
    for (let i = 0; i < 50 && !stuck; i++) {
      busy.heartbeat({ phase: 'tool_calls' });
      await faultline.flush();
      await sleep(200);
      stuck = (await collector.deps.store.query<{ stuck: boolean }>('select stuck from sessions where id = $1', [session.id]))[0]?.stuck ?? false;
    }
    expect(stuck).toBe(true);
    busy.end('completed');
    await faultline.flush();
    await collector.deps.alerts.runOnce();
    await collector.deps.alerts.runOnce();

    expect(slack.accepted()).toHaveLength(1);
    const message = slack.accepted()[0].json as SlackMessage;
    expectValidBlockKit(message);
    const words = getCatalogEntry(STUCK_CODE)!.userMessage;
    const section = (message.blocks[1] as { text: { text: string } }).text.text;
    expect(section.split('\n')[0]).toBe(`*Session ${session.id} is stuck while running in stuck-${storage.name} (agent researcher)*`);
    expect(section).toContain(words.slice(0, 40));
    expect(JSON.stringify(message.blocks[2])).toContain(`<${collector.url}/sessions/${session.id}|Open the session>`);
    const event = SessionWebhookShape.parse(orchestrator.accepted()[0].json);
    expect(event).toMatchObject({ event: 'stuck', session: { id: session.id, stuck: true, stuckKind: 'running_silent' }, clientError: { code: STUCK_CODE } });
    expect(orchestrator.received).toHaveLength(1);
    expect((await api.call<AlertRule[]>('GET', '/rules')).json.find((r) => r.id === rule.id)!.firing).toBe(1);

    // Life again: resolved, once.
    // Slack gets at most one message a second: the resolution waits for its turn (the session keeps beating meanwhile).
    for (let i = 0; i < 30 && slack.accepted().length < 2; i++) {
      session.heartbeat({ phase: 'resumed' });
      await faultline.flush();
      await collector.deps.alerts.runOnce();
      await sleep(100);
    }
    expect(slack.accepted()).toHaveLength(2);
    const log = await api.deliveries(`?destination=${slackDest.id}`);
    expect(log.map((d) => d.status)).toEqual(['sent', 'sent']);
    const attempts = log.map((d) => Date.parse(d.lastAttemptAt!));
    expect(Math.abs(attempts[0] - attempts[1])).toBeGreaterThanOrEqual(1000);
    const resolved = slack.accepted()[1].json as SlackMessage;
    expectValidBlockKit(resolved);
    expect(resolved.text).toContain(`Session ${session.id} is moving again or ended`);
    expect((resolved.blocks[0] as { text: { text: string } }).text.text).toBe('✅ Stuck runs');
    expect(orchestrator.received).toHaveLength(1);
    expect(busy.id).not.toBe(session.id);
    await faultline.shutdown();
  });
});
