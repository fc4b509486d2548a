/**
 * With FAULTLINE_API_TOKEN, the dashboard's live stream in real Chromium: EventSource cannot send
 * the token header and no URL may carry the token, so the page takes a stream ticket with the
 * header and opens the stream with it. A session flagged while the page is open must appear.
 * And a page reached through a rebound DNS name (Chromium maps it to 127.0.0.1) gets 421.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { otlpBody, otlpSpan, postTraces } from '../faults/support.ts';
import { CHROMIUM, RUN_BROWSER_TESTS, requireChromium } from './chromium.ts';

const TOKEN = 'browser-token-0123456789abcdef';

describe.skipIf(!RUN_BROWSER_TESTS)('dashboard live stream with an API token (Chromium)', () => {
  let collector: RunningCollector;
  let browser: Browser;
  beforeAll(async () => {
    requireChromium();
    collector = await startTestCollector(STORAGES[0], { apiToken: TOKEN });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
        '--host-resolver-rules=MAP rebind.attacker.test 127.0.0.1'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await collector?.close();
  });

  it('goes live with a ticket, shows a session that arrives afterwards, and never puts the token in a URL', async () => {
    const page = await browser.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.addInitScript((token) => localStorage.setItem('faultline.apiToken', token), TOKEN);
    await page.goto(`${collector.url}/sessions`);
    await page.getByText('Live', { exact: true }).first().waitFor({ timeout: 20_000 });
    const id = `sess-live-token-${Date.now()}`;
    expect((await postTraces(collector.url, otlpBody([otlpSpan({ sessionId: id, name: 'faultline.session.status', attributes: { 'faultline.session.state': 'running' } })]))).status).toBe(200);
    await page.getByText(id).first().waitFor({ timeout: 20_000 });
    expect(urls.some((u) => u.includes('/api/stream?ticket='))).toBe(true);
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    await page.close();
  }, 60_000);

  it('answers a page reached through a rebound DNS name with 421', async () => {
    const page = await browser.newPage();
    const port = new URL(collector.url).port;
    const response = await page.goto(`http://rebind.attacker.test:${port}/api/codes`);
    expect(response?.status()).toBe(421);
    await page.close();
  }, 60_000);
});
