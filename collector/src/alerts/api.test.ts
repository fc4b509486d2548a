/**
 * The alerts API and the FAULTLINE_ALERTS file: bad input is a 400 (or a start-up error)
 * naming the field or the file line in words; file-managed rules are read-only except muting;
 * a destination in use cannot be deleted; the file's secrets come from the environment.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRule, Destination } from '@faultline/schema/api';
import { loadConfig, testConfig } from '../config.ts';
import { StartupError } from '../errors.ts';
import { newPgliteStore } from '../testing.ts';
import { startCollector, type RunningCollector } from '../server.ts';
import { loadAlertsFile } from './alerts-file.ts';
import { alertApi } from './test-receiver.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-alerts-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const startupMessage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StartupError);
    return (err as Error).message;
  }
  throw new Error('expected a StartupError');
};

describe('/api/alerts input', () => {
  let collector: RunningCollector;
  let api: ReturnType<typeof alertApi>;
  beforeAll(async () => {
    collector = await startCollector(testConfig({ port: 0, host: '127.0.0.1' }), { store: await newPgliteStore(), alerts: { worker: false } });
    api = alertApi(collector);
  });
  afterAll(async () => collector?.close());

  it('answers 400 naming the field and what to send', async () => {
    const dest = await api.destination({ name: 'Hook', kind: 'webhook', url: 'http://127.0.0.1:9/hook' });
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/rules', { name: 'Spike', kind: 'error_rate', destinations: [dest.id] }, /threshold: an error_rate rule needs a threshold.*windowMs: an error_rate rule needs windowMs/],
      ['POST', '/rules', { name: 'New', kind: 'new_group', destinations: ['dest-nope'] }, /destinations: no destination with the id "dest-nope"/],
      ['POST', '/rules', { name: 'New', kind: 'new_group', destinations: [dest.id], threshold: 3 }, /threshold: only error_rate rules take a threshold \(this rule is new_group\)/],
      ['POST', '/rules', { name: 'Hooks', kind: 'session_state', destinations: [dest.id], states: ['running'] }, /states\.0: must be one of error, stuck, stopped, completed/],
      ['POST', '/rules', { name: 'X', kind: 'new_group', destinations: [dest.id], filters: { teams: ['a'] } }, /filters: Unrecognized key: "teams"/],
      ['POST', '/destinations', { name: 'Mail', kind: 'webhook', url: 'ftp://example.com/x' }, /url: must be an http:\/\/ or https:\/\/ URL/],
      ['POST', '/destinations', { name: 'Hook', kind: 'webhook', url: 'http://x.test/', secret: 'hunter2' }, /secret: must be "generate" or a Standard Webhooks secret/],
      ['POST', '/destinations', { name: 'Pager', kind: 'pagerduty', url: 'http://x.test/' }, /kind: must be one of webhook, slack/],
    ];
    for (const [method, route, body, message] of cases) {
      const r = await api.call<{ error: { code: string; message: string } }>(method, route, body);
      expect(r.status, `${method} ${route} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json.error.message).toMatch(message);
    }
    const notJson = await fetch(`${collector.url}/api/alerts/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'stuck please' });
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toContain('The request body must be JSON, for example');
  });

  it('patches a rule within its kind, refuses to delete a destination in use, deletes a rule with its alerts', async () => {
    const dest = await api.destination({ name: 'Hook 2', kind: 'webhook', url: 'http://127.0.0.1:9/hook2' });
    const rule = await api.rule({ name: 'Spike', kind: 'error_rate', destinations: [dest.id], threshold: 10, windowMs: 60_000 });
    const patched = await api.call<AlertRule>('PATCH', `/rules/${rule.id}`, { threshold: 20, muted: true });
    expect(patched.json).toMatchObject({ threshold: 20, windowMs: 60_000, muted: true });
    const wrong = await api.call<{ error: { message: string } }>('PATCH', `/rules/${rule.id}`, { states: ['error'] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.message).toMatch(/states: only session_state rules take states/);
    const inUse = await api.call<{ error: { code: string; message: string } }>('DELETE', `/destinations/${dest.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.json.error).toMatchObject({ code: 'destination_in_use', message: `The destination ${dest.id} is used by Spike (${rule.id}); remove it from that rule first.` });
    expect((await api.call('DELETE', `/rules/${rule.id}`)).status).toBe(204);
    expect((await api.call('DELETE', `/destinations/${dest.id}`)).status).toBe(204);
    expect((await api.call('GET', `/rules/${rule.id}`)).status).toBe(404);
  });
});

describe('FAULTLINE_ALERTS file', () => {
  const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const good = [
    'destinations:',
    '  - id: oncall',
    '    name: On-call Slack',
    '    kind: slack',
    '    url: ${SLACK_WEBHOOK_URL}',
    '  - id: orchestrator',
    '    kind: webhook',
    '    url: http://127.0.0.1:9/faultline',
    '    secret: ${ORCHESTRATOR_SECRET}',
    'rules:',
    '  - id: stuck',
    '    name: Stuck sessions',
    '    kind: stuck_session',
    '    destinations: [oncall]',
    '  - id: runs',
    '    kind: session_state',
    '    states: [error, completed]',
    '    filters: { services: [orchestrated] }',
    '    destinations: [orchestrator]',
    '',
  ].join('\n');

  it('names the file line of each problem and never echoes a secret', () => {
    const file = write('bad.yaml', good.replace('kind: stuck_session', 'kind: stuck').replace('destinations: [orchestrator]', 'destinations: [orchestrater]'));
    const message = startupMessage(() => loadConfig({ FAULTLINE_ALERTS: file, SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/zzz', ORCHESTRATOR_SECRET: SECRET }));
    expect(message).toContain(`FAULTLINE_ALERTS: ${file} has a problem:`);
    expect(message).toContain(`${file}:13: rules[0].kind: must be one of new_group, regression, stuck_session, error_rate, session_state`);
    const unset = startupMessage(() => loadAlertsFile(write('unset.yaml', good), { ORCHESTRATOR_SECRET: SECRET }));
    expect(unset).toContain(`unset.yaml:5: destinations[0].url: the environment variable SLACK_WEBHOOK_URL is not set`);
    const dangling = startupMessage(() => loadAlertsFile(write('dangling.yaml', good.replace('destinations: [orchestrator]', 'destinations: [orchestrater]')), { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/zzz', ORCHESTRATOR_SECRET: SECRET }));
    expect(dangling).toContain('dangling.yaml:19: rules[1].destinations[0]: no destination with the id orchestrater in this file');
    const weak = startupMessage(() => loadAlertsFile(write('weak.yaml', good), { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/zzz', ORCHESTRATOR_SECRET: 'hunter2-hunter2-hunter2' }));
    expect(weak).toContain('weak.yaml:9: destinations[1].secret: must be "generate" or a Standard Webhooks secret');
    expect(weak).not.toContain('hunter2');
  });

  it('writes the file to the database at start: read-only through the API but for muting, removed when it leaves the file', async () => {
    const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0AAA/B0BBB/cccccccccccc', ORCHESTRATOR_SECRET: SECRET };
    const store = await newPgliteStore();
    const first = await startCollector(testConfig({ port: 0, host: '127.0.0.1', alerts: loadAlertsFile(write('good.yaml', good), env) }), { store: { ...store, close: async () => {} }, alerts: { worker: false } });
    const api = alertApi(first);
    const rules = (await api.call<AlertRule[]>('GET', '/rules')).json;
    expect(rules.map((r) => [r.id, r.name, r.managedBy, r.groupWaitMs])).toEqual([['runs', 'runs', 'file', 0], ['stuck', 'Stuck sessions', 'file', 2000]]);
    const destinations = (await api.call<Destination[]>('GET', '/destinations')).json;
    expect(destinations.map((d) => [d.id, d.url, d.signed, d.minIntervalMs])).toEqual([
      ['oncall', 'https://hooks.slack.com/…cccc', false, 1000],
      ['orchestrator', 'http://127.0.0.1:9/…line', true, 0],
    ]);
    const rename = await api.call<{ error: { code: string; message: string } }>('PATCH', '/rules/stuck', { name: 'Other' });
    expect(rename.status).toBe(409);
    expect(rename.json.error.message).toBe('The rule stuck comes from the FAULTLINE_ALERTS file: change it there (only muting works here).');
    expect((await api.call<AlertRule>('PATCH', '/rules/stuck', { muted: true })).json.muted).toBe(true);
    await first.close();

    const second = await startCollector(testConfig({ port: 0, host: '127.0.0.1', alerts: loadAlertsFile(write('fewer.yaml', good.split('  - id: runs')[0]), env) }), { store, alerts: { worker: false } });
    const after = (await alertApi(second).call<AlertRule[]>('GET', '/rules')).json;
    // The mute survived the restart (the file did not say); the rule that left the file is gone.
    expect(after.map((r) => [r.id, r.muted])).toEqual([['stuck', true]]);
    await second.close();
  });
});
