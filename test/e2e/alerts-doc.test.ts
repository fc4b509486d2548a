/**
 * docs/alerts.md, run as written: its FAULTLINE_ALERTS example (secrets from the environment)
 * configures a collector whose Slack destination gets the new-group alert of a billing failure
 * and whose orchestrator gets the signed session webhook; its JSON examples are what receivers
 * really get (each parses with the contract's shape and has the same fields as a real delivery).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { init } from '@faultline/sdk';
import { AlertmanagerWebhookShape, SessionWebhookShape } from '@faultline/schema/api';
import { loadConfig } from '../../collector/src/config.ts';
import { startCollector } from '../../collector/src/server.ts';
import { newPgliteStore } from '../../collector/src/testing.ts';
import { expectValidBlockKit, startReceiver } from '../../collector/src/alerts/test-receiver.ts';
import type { SlackMessage } from '../../collector/src/alerts/slack.ts';
import { BadRequestError } from '../../examples/simulated-failures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = fs.readFileSync(path.join(ROOT, 'docs/alerts.md'), 'utf8');
const blocks = (lang: string) => [...DOC.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-doc-alerts-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every key path of a JSON value (array items merged), to compare an example with the real thing. */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return [...new Set(v.flatMap((x) => keyPaths(x, `${prefix}[]`)))];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [`${prefix}.${k}`, ...keyPaths(x, `${prefix}.${k}`)]);
  return [];
}
const shapeOf = (v: unknown) => keyPaths(v).filter((p) => !/\.(labels|annotations|groupLabels|commonLabels|commonAnnotations)\./.test(p)).sort();

describe('docs/alerts.md', () => {
  it('the example file configures a collector that alerts Slack and signs the orchestrator webhook; the JSON examples are real shapes', async () => {
    const [yaml] = blocks('yaml');
    const [alertExample, sessionExample] = blocks('json').map((j) => JSON.parse(j));
    expect(AlertmanagerWebhookShape.parse(alertExample)).toBeTruthy();
    expect(SessionWebhookShape.parse(sessionExample)).toBeTruthy();

    const slack = await startReceiver();
    const orchestrator = await startReceiver();
    const file = path.join(tmp, 'alerts.yaml');
    fs.writeFileSync(file, yaml);
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const config = loadConfig({
      FAULTLINE_ALERTS: file,
      SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/doc`,
      ORCHESTRATOR_WEBHOOK_URL: `${orchestrator.url}/runs`,
      ORCHESTRATOR_WEBHOOK_SECRET: secret,
    });
    const collector = await startCollector({ ...config, port: 0, host: '127.0.0.1', grpcPort: null }, { store: await newPgliteStore() });
    try {
      const faultline = init({ serviceName: 'checkout-agent', endpoint: collector.url, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
      const session = faultline.startSession({ agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
      session.status('running');
      const client = session.fail(new BadRequestError());
      await faultline.shutdown();

      const [run] = await orchestrator.waitFor(1);
      expect(() => new Webhook(secret).verify(run.body, run.headers as Record<string, string>)).not.toThrow();
      const event = SessionWebhookShape.parse(run.json);
      expect(event).toMatchObject({ event: 'error', rule: { id: 'runs' }, clientError: client });
      expect(shapeOf(run.json)).toEqual(shapeOf(sessionExample));

      const [alert] = await slack.waitFor(1);
      expectValidBlockKit(alert.json as SlackMessage);
      expect((alert.json as SlackMessage).text).toContain('New kind of error: AI provider account out of credits in checkout-agent (agent assistant)');
      expect((alert.json as SlackMessage).text).toContain(client.message);

      // The same alert as a webhook receiver gets it has the example's fields.
      const delivered = await collector.deps.store.query<{ body: string }>("select body from alert_deliveries where kind = 'alert'");
      expect(delivered).toHaveLength(1);
      const asWebhook = await collector.deps.store.query<{ n: number }>("select count(*)::int as n from alert_destinations where kind = 'webhook'");
      expect(asWebhook[0].n).toBe(1);
      const { alertmanagerBody } = await import('../../collector/src/alerts/payloads.ts');
      const rule = collector.deps.alerts.rules.get('new-problems')!;
      const [{ facts }] = await collector.deps.store.query<{ facts: never }>("select facts from alert_states where rule_id = 'new-problems'");
      const real = alertmanagerBody(rule, 'On-call Slack', [{ status: 'firing', key: 'k', at: new Date().toISOString(), facts }], collector.deps.alerts.renderContext);
      expect(shapeOf(real)).toEqual(shapeOf(alertExample));
    } finally {
      await collector.close();
      await slack.close();
      await orchestrator.close();
    }
  });
});
