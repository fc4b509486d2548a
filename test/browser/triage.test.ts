/**
 * The operator workflow in real Chromium against a real collector: resolve an error group from
 * the Errors view and dismiss a stuck session from its page, then reload — both must still hold
 * (the collector stored them), the stuck card must drop, and each Overview card must open a list
 * whose total is the card's number. Fed by the official OTel exporter (AgentTelemetry).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CountedPage, ErrorGroup, Session } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import { DASHBOARD_DIST } from '../../collector/src/app.ts';
import { AgentTelemetry, ago } from '../../collector/src/api/agent-telemetry.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { CHROMIUM, RUN_BROWSER_TESTS, requireChromium } from './chromium.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const run = Date.now().toString(36);
const ids = { billing: `triage-billing-${run}`, silent: `triage-silent-${run}`, other: `triage-silent-2-${run}` };

describe.skipIf(!RUN_BROWSER_TESTS)('operator triage in Chromium', () => {
  let collector: RunningCollector;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const api = async <T,>(p: string) => (await fetch(`${collector.url}/api${p}`)).json() as Promise<T>;
  const open = async (pathname: string) => {
    await page.goto(`${collector.url}${pathname}`);
    await page.locator('main h1').first().waitFor();
  };

  beforeAll(async () => {
    if (!existsSync(path.join(DASHBOARD_DIST, 'index.html'))) {
      throw new Error('The dashboard is not built: run `npm run build` (npm install and npm test do it first).');
    }
    requireChromium();
    await mkdir(ARTIFACTS, { recursive: true });
    collector = await startTestCollector(STORAGES[0], { stuckThresholdsMs: { starting: 1_000, running: 1_000, retrying: 1_000 }, sweepIntervalMs: 300 });
    const t = new AgentTelemetry(collector.url);
    t.status(ids.billing, 'running', ago(2));
    t.billingError(ids.billing, ago(1), ago(1, 200));
    t.status(ids.billing, 'error', ago(1, 300));
    t.status(ids.silent, 'running', ago(0, -500), { message: 'Working on the refactor…' });
    t.status(ids.other, 'running', ago(0, -500));
    await t.flush();
    await t.shutdown();
    for (let i = 0; (await api<CountedPage<Session>>('/sessions?stuck=true')).total < 2; i++) {
      if (i > 150) throw new Error('the watchdog did not flag the two silent sessions within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.close();
  });

  it('every Overview card opens a list whose total is the card number', async () => {
    await open('/?window=1h');
    const cards = page.locator('ul.cards li');
    await expect.poll(() => cards.count()).toBe(4);
    for (const key of ['failed', 'stuck', 'active', 'errors']) {
      await open('/?window=1h');
      const card = page.locator(`[data-card="${key}"] a`);
      const n = Number(((await card.locator('.card-n').textContent()) ?? '').replace(/\D/g, ''));
      await card.click();
      await page.waitForURL((url) => url.pathname !== '/');
      const total = page.getByTestId(key === 'errors' ? 'errors-total' : 'sessions-total');
      await total.waitFor();
      expect(Number(((await total.textContent()) ?? '').replace(/[^\d].*$/s, '').replace(/\D/g, '')), `${key} card`).toBe(n);
    }
  });

  it('resolves an error group from the UI, and it stays resolved after a reload', async () => {
    await open('/errors?code=AGT-PROVIDER-BILLING');
    const row = page.getByRole('row').filter({ hasText: 'AI provider account out of credits' });
    await row.waitFor();
    await row.getByRole('button', { name: /^Resolve/ }).click();
    await row.getByText('resolved', { exact: true }).waitFor();
    await row.getByRole('button', { name: /^Reopen/ }).waitFor();

    await page.reload();
    await page.locator('main h1').waitFor();
    const again = page.getByRole('row').filter({ hasText: 'AI provider account out of credits' });
    await again.getByText('resolved', { exact: true }).waitFor();
    await again.getByRole('button', { name: /^Reopen/ }).waitFor();
    const groups = await api<ErrorGroup[]>('/groups?code=AGT-PROVIDER-BILLING');
    expect(groups.map((g) => g.status)).toEqual(['resolved']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'triage-errors.png'), fullPage: true });
  });

  it('dismisses a stuck session from its page; it leaves "stuck now" and stays dismissed after a reload', async () => {
    await open('/?window=1h');
    await page.locator('[data-card="stuck"]').getByText(/^2/).waitFor();

    await open(`/sessions/${ids.silent}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText(/^Acknowledged/).waitFor();
    await page.getByRole('button', { name: 'Dismiss stuck' }).click();
    await page.getByTestId('stuck-dismissed').waitFor();

    // Several watchdog sweeps later, after a reload: still dismissed, not re-flagged.
    await new Promise((r) => setTimeout(r, 1_000));
    await page.reload();
    await page.getByTestId('stuck-dismissed').waitFor();
    await expect(page.getByRole('button', { name: 'Dismiss stuck' }).count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'triage-session-dismissed.png'), fullPage: true });

    await open('/?window=1h');
    await page.locator('[data-card="stuck"]').getByText(/^1/).waitFor();
    const stuck = page.locator('section[aria-labelledby="stuck-h"]');
    await stuck.getByRole('link', { name: ids.other }).waitFor();
    await expect(stuck.getByRole('link', { name: ids.silent }).count()).resolves.toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
