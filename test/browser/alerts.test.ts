/**
 * The operator's path in real Chromium: add a Slack destination on the Alerts page, send a test,
 * add a stuck-session rule; an SDK runtime (a child process) is killed with SIGKILL mid-run and
 * the Slack receiver gets one "stuck" message with the session's friendly words and a link
 * within threshold + sweep + grouping window + a few seconds; the session shows life again
 * (the runtime restarted on the same session) and one "resolved" message follows. The delivery
 * log page shows both as sent with the receiver's answer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { getCatalogEntry, STUCK_CODE } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { expectValidBlockKit, startReceiver, type Receiver } from '../../collector/src/alerts/test-receiver.ts';
import type { SlackMessage } from '../../collector/src/alerts/slack.ts';
import { runTs, tempDir } from '../e2e/support.ts';

const STUCK_AFTER_MS = 1500;
const SWEEP_MS = 250;
/** The default grouping window of a rule made on the page. */
const GROUP_WAIT_MS = 2000;
/** A few seconds: the worker's tick, the request, a busy CI machine. */
const SLACK_MS = 3000;

describe('alerts from the dashboard to Slack (Chromium)', () => {
  let collector: RunningCollector;
  let browser: Browser;
  let slack: Receiver;
  const tmp = tempDir('alerts-browser');

  beforeAll(async () => {
    slack = await startReceiver();
    collector = await startTestCollector(STORAGES[0], { sweepIntervalMs: SWEEP_MS });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await collector?.close();
    await slack?.close();
    tmp.remove();
  });

  it('one stuck message with friendly words and a link after a SIGKILL, one resolved when the session shows life', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${collector.url}/alerts`);
    await page.getByLabel('Name', { exact: true }).first().fill('On-call Slack');
    await page.getByLabel('Kind').selectOption('slack');
    await page.getByLabel('URL').fill(`${slack.url}/services/T0001/B0001/abcdefSECRET`);
    await page.getByRole('button', { name: 'Add destination' }).click();
    await page.getByRole('cell', { name: 'On-call Slack' }).waitFor();
    // The address is shown masked; the secret part of a Slack URL never reaches the page.
    expect(await page.content()).not.toContain('abcdefSECRET');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByText('Delivered: the receiver answered HTTP 200 “ok”.').waitFor({ timeout: 15_000 });
    expect(slack.received).toHaveLength(1);
    expectValidBlockKit(slack.received[0].json as SlackMessage);

    await page.getByLabel('When').selectOption('stuck_session');
    await page.getByLabel('Name', { exact: true }).nth(1).fill('Stuck runs');
    await page.getByRole('checkbox', { name: 'On-call Slack' }).check();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('cell', { name: /Stuck runs/ }).waitFor();

    const id = `browser-killed-${randomUUID()}`;
    const env = { FAULTLINE_ENDPOINT: collector.url, TMPDIR: tmp.path, SESSION_ID: id, STUCK_AFTER_MS: String(STUCK_AFTER_MS), HEARTBEAT_MS: '200' };
    const runtime = runTs('test/e2e/fixtures/silent-runtime.ts', env);
    await runtime.line(/^ready /);
    await new Promise((r) => setTimeout(r, 600));
    runtime.child.kill('SIGKILL');
    const killedAt = Date.now();
    await runtime.exited;

    const [, stuck] = await slack.waitFor(2, STUCK_AFTER_MS + SWEEP_MS + GROUP_WAIT_MS + SLACK_MS + 5000);
    const detectMs = stuck.at - killedAt;
    console.log(`[alerts] Slack stuck message ${detectMs} ms after SIGKILL (threshold ${STUCK_AFTER_MS}, sweep ${SWEEP_MS}, grouping ${GROUP_WAIT_MS} ms)`);
    expect(detectMs).toBeLessThanOrEqual(STUCK_AFTER_MS + SWEEP_MS + GROUP_WAIT_MS + SLACK_MS);
    const message = stuck.json as SlackMessage;
    expectValidBlockKit(message);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(`Session ${id} is stuck while running in silent-runtime (agent worker)`);
    expect(text).toContain(getCatalogEntry(STUCK_CODE)!.userMessage.slice(0, 60));
    expect(text).toContain(`<${collector.url}/sessions/${id}|Open the session>`);

    // The runtime comes back on the same session: one resolved message.
    const again = runTs('test/e2e/fixtures/silent-runtime.ts', env);
    try {
      await again.line(/^ready /);
      await slack.waitFor(3, GROUP_WAIT_MS + SLACK_MS + 5000);
    } finally {
      again.child.kill('SIGKILL');
    }
    const resolved = slack.received[2].json as SlackMessage;
    expectValidBlockKit(resolved);
    expect(resolved.text).toContain(`Session ${id} is moving again or ended`);
    expect(slack.received).toHaveLength(3);

    await page.getByText(/Quiet|1 firing/).first().waitFor();
    if (process.env.ALERTS_SCREENSHOT) await page.screenshot({ path: process.env.ALERTS_SCREENSHOT.replace(/\.png$/, '-rules.png'), fullPage: true });
    await page.getByRole('link', { name: 'Delivery log' }).click();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    await page.getByText(`Resolved: Session ${id} is moving again or ended`).waitFor({ timeout: 10_000 });
    expect(await page.locator('td .status-sent').count()).toBe(3);
    expect(await page.getByText('HTTP 200 ok').count()).toBe(3);
    await page.screenshot({ path: process.env.ALERTS_SCREENSHOT ?? `${tmp.path}/deliveries.png`, fullPage: true });
    await page.close();
  });
});
