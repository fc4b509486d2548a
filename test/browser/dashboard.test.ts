/**
 * The dashboard as a person sees it: real Chromium (playwright-core, the Debian build) against
 * a real collector serving the built SPA, fed by the Faultline SDK and by a plain OpenTelemetry
 * exporter. Every view is saved as a full-page screenshot under test/artifacts/ for review.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { getCatalogEntry, renderUserMessage } from '@faultline/schema';
import { init, withTimeout, type Faultline } from '@faultline/sdk';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import { DASHBOARD_DIST } from '../../collector/src/app.ts';
import { CHROMIUM, RUN_BROWSER_TESTS, requireChromium } from './chromium.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { ActivityFailure, BadRequestError, TimeoutFailure, sleep } from '../../examples/simulated-failures.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const STUCK_AFTER_MS = 1_500;
/**
 * Sessions that are only briefly busy get a long threshold of their own
 * (`faultline.session.stuck_after_ms`): on a loaded machine a 200 ms tool call could otherwise
 * outlast 1.5 s and add a stuck verdict the counts below do not expect.
 */
const BUSY_STUCK_AFTER_MS = 60_000;

// Readable ids a support person could be handed; a run suffix keeps reruns apart.
const run = Date.now().toString(36);
const ids = {
  billing: `sess-billing-${run}`,
  silent: `sess-silent-${run}`,
  // Long, as real thread ids are: nothing may overflow the 1280 px layout because of it.
  healthy: `sess-healthy-${run}-thread-7f3c2a9e-4b1d-4c8e-9a6f-2d5e8b1c0f47-01J9ZK3W8Q`,
  crash: `sess-worker-crash-${run}`,
  toolTimeout: `sess-tool-timeout-${run}`,
  otel: `conv-otel-429-${run}`,
  live: `sess-live-${run}`,
};

const BILLING_MESSAGE = renderUserMessage('AGT-PROVIDER-BILLING', { provider: 'anthropic', model: 'claude-sonnet-4-5' });
const STUCK_MESSAGE = renderUserMessage('AGT-SESSION-STUCK');


async function billingSession(faultline: Faultline, id: string): Promise<void> {
  const session = faultline.startSession({ stuckAfterMs: BUSY_STUCK_AFTER_MS, id, agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5', statusMessage: 'Creating execution environment…' });
  session.status('ready', 'Ready');
  await session
    .turn('reply', async () => {
      await sleep(20);
      throw new BadRequestError();
    })
    .catch(() => {});
}

async function sendTelemetry(faultline: Faultline): Promise<void> {
  await billingSession(faultline, ids.billing);

  // Goes silent while running: no heartbeat, no end. The watchdog must flag it.
  const silent = faultline.startSession({ id: ids.silent, agent: 'coder', provider: 'openai', model: 'gpt-5' });
  silent.status('running', 'Working on the refactor…');

  const healthy = faultline.startSession({ stuckAfterMs: BUSY_STUCK_AFTER_MS, id: ids.healthy, agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
  healthy.status('ready');
  await healthy.turn('reply', async (turn) => {
    const files = await healthy.tool('list_files', async () => ['README.md', 'src/index.ts']);
    turn.output(`The project has ${files.length} files.`);
  });
  healthy.end('completed', 'Done');

  const crash = faultline.startSession({ stuckAfterMs: BUSY_STUCK_AFTER_MS, id: ids.crash, agent: 'researcher', statusMessage: 'Waiting for a worker…' });
  crash.status('running', 'Working…');
  for (let events = 1; events <= 3; events++) crash.heartbeat({ events_processed: events * 5, phase: 'tool_calls' });
  crash.fail(new ActivityFailure('Activity task failed', { cause: new TimeoutFailure({ events_processed: 15, phase: 'tool_calls' }) }));

  const coder = faultline.startSession({ stuckAfterMs: BUSY_STUCK_AFTER_MS, id: ids.toolTimeout, agent: 'coder', provider: 'openai', model: 'gpt-5' });
  coder.status('ready');
  await coder
    .turn('fix the failing test', async (turn) => {
      await coder.tool('run_tests', () => withTimeout('cli_exec', 200, (signal) => sleep(5_000, signal), { label: 'npm test' }));
      turn.output('All tests pass.');
    })
    .catch(() => {});

  await faultline.flush();
}

/** A producer that knows nothing of Faultline: the official OTLP/proto exporter, one failed LLM call. */
async function sendPlainOtel(url: string): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'plain-otel-chat' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
  });
  const span = provider.getTracer('browser-test').startSpan('chat gpt-4o', {
    attributes: {
      'gen_ai.conversation.id': ids.otel,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'http.response.status_code': 429,
    },
  });
  const error = new Error('429 Rate limit reached for gpt-4o in organization org-xyz on requests per min (RPM): Limit 500, Used 500.');
  error.name = 'RateLimitError';
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
}

describe.skipIf(!RUN_BROWSER_TESTS)('dashboard in Chromium', () => {
  let collector: RunningCollector;
  let faultline: Faultline;
  let spoolDir: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  const screenshot = async (name: string) => {
    // From the top: the sticky header would otherwise be drawn mid-page in a full-page capture.
    await page.evaluate(() => window.scrollTo(0, 0));
    // Nothing wider than the laptop screen: no sideways scrolling on any view.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
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
    spoolDir = await mkdtemp(path.join(tmpdir(), 'faultline-browser-'));

    collector = await startTestCollector(STORAGES[0], {
      stuckThresholdsMs: { starting: STUCK_AFTER_MS, running: STUCK_AFTER_MS, retrying: STUCK_AFTER_MS },
      sweepIntervalMs: 300,
    });
    // No periodic heartbeat: the silent session must really be silent.
    faultline = init({ serviceName: 'browser-test-runtime', endpoint: collector.url, spoolDir, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
    await sendTelemetry(faultline);
    await sendPlainOtel(collector.url);

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
    await faultline?.shutdown();
    await collector?.close();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  });

  it('shows stuck and failed sessions with their friendly messages on the first screen', async () => {
    await open('/');
    const stuck = page.locator('section[aria-labelledby="stuck-h"]');
    const failed = page.locator('section[aria-labelledby="failed-h"]');
    // The watchdog flags the silent session within its threshold plus a sweep; the page updates live.
    await stuck.getByRole('link', { name: ids.silent }).waitFor({ timeout: 15_000 });
    await expect(stuck.getByText(STUCK_MESSAGE).first().isVisible()).resolves.toBe(true);

    const billingRow = failed.getByRole('row').filter({ hasText: ids.billing });
    await billingRow.waitFor();
    await expect(billingRow.getByText(BILLING_MESSAGE).isVisible()).resolves.toBe(true);
    await expect(billingRow.getByRole('link', { name: 'AGT-PROVIDER-BILLING' }).isVisible()).resolves.toBe(true);
    // The worker crash and the tool timeout are failures too.
    await failed.getByRole('link', { name: ids.crash }).waitFor();
    await failed.getByRole('link', { name: ids.toolTimeout }).waitFor();
    // A completed session is not a failure.
    await expect(failed.getByText(ids.healthy).count()).resolves.toBe(0);

    // "On the first screen": the stuck list and the first failed row are above the fold at 1280×800.
    const box = await billingRow.boundingBox();
    const stuckBox = await stuck.getByRole('link', { name: ids.silent }).boundingBox();
    expect(stuckBox!.y).toBeLessThan(800);
    expect(box!.y).toBeLessThan(800 * 1.5);

    const cards = page.locator('ul.cards');
    // The count card agrees with the list (it refreshes live, within the view's throttle).
    await cards.getByText(/1\s*stuck now/).waitFor({ timeout: 10_000 });
    // The chart has axis titles, and pointing at the latest bucket reads its counts out in words.
    const over = page.locator('.chart-canvas .u-over');
    await over.waitFor();
    await expect(page.locator('figure.chart figcaption').textContent()).resolves.toContain('Vertical axis: errors per 30 min. Horizontal axis: local time.');
    await over.scrollIntoViewIfNeeded();
    const area = (await over.boundingBox())!;
    await expect
      .poll(async () => {
        await page.mouse.move(area.x + area.width - 2, area.y + area.height / 2, { steps: 2 });
        return page.locator('.chart-readout').textContent();
      })
      .toMatch(/provider 2 · timeout 2 · session 1/);
    await page.mouse.move(0, 0);
    await screenshot('overview');
  });

  it('classifies the plain OpenTelemetry span and names it in words', async () => {
    await open(`/sessions?q=${encodeURIComponent(ids.otel)}`);
    const row = page.getByRole('row').filter({ hasText: ids.otel });
    await row.waitFor();
    await expect(row.getByRole('link', { name: 'AGT-PROVIDER-RATE-LIMIT' }).isVisible()).resolves.toBe(true);
    await expect(row.textContent()).resolves.toContain(renderUserMessage('AGT-PROVIDER-RATE-LIMIT', { provider: 'openai' }));
    await expect(row.textContent()).resolves.toContain('plain-otel-chat');
  });

  it('filters sessions by code, and the filter survives a reload', async () => {
    await open('/sessions');
    await page.getByRole('link', { name: ids.healthy }).waitFor();
    await page.getByLabel('Error code', { exact: true }).fill('agt-provider-billing');
    await page.getByLabel('Error code', { exact: true }).press('Enter');
    await page.waitForURL(/code=AGT-PROVIDER-BILLING/);
    const rows = page.locator('table.sessions tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain(ids.billing);

    await page.reload();
    await page.locator('main h1').waitFor();
    await expect(page.getByLabel('Error code', { exact: true }).inputValue()).resolves.toBe('AGT-PROVIDER-BILLING');
    await page.getByRole('link', { name: ids.billing }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    await expect(page.getByText(ids.healthy).count()).resolves.toBe(0);

    // Back to everything for the screenshot: a populated list.
    await open('/sessions');
    await page.getByRole('link', { name: ids.healthy }).waitFor();
    // Code identifiers are read aloud to customers: not the smallest text on the page.
    const sizes = await page.evaluate(() => {
      const px = (el: Element | null) => (el ? parseFloat(getComputedStyle(el).fontSize) : NaN);
      return { code: px(document.querySelector('table.sessions a.code')), small: px(document.querySelector('table.sessions .small')) };
    });
    expect(sizes.code).toBeGreaterThanOrEqual(13);
    expect(sizes.code).toBeGreaterThanOrEqual(sizes.small);
    await screenshot('sessions');
  });

  it('opens a session timeline: status change before the error, technical detail folded', async () => {
    await open(`/sessions?code=AGT-PROVIDER-BILLING`);
    await page.getByRole('link', { name: ids.billing }).click();
    await page.waitForURL(`**/sessions/${ids.billing}`);
    await expect(page.locator('main h1').textContent()).resolves.toContain(ids.billing);
    // Friendly message first.
    await expect(page.locator('.session-head .friendly').textContent()).resolves.toBe(BILLING_MESSAGE);
    // What support tells the customer, near the top, and the Copy button puts exactly those words on the clipboard.
    const customer = page.getByTestId('customer-message');
    const words = (await customer.locator('.customer-text').textContent()) ?? '';
    expect(words).toBe(`Your request did not finish: ${BILLING_MESSAGE} Trying again will not help until the cause is fixed; we will let you know when it is.`);
    expect((await customer.boundingBox())!.y).toBeLessThan(800);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: collector.url });
    await customer.getByRole('button', { name: 'Copy' }).click();
    await customer.getByText('Copied to the clipboard.').waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(words);

    const items = page.locator('ol.timeline > li');
    await items.first().waitFor();
    const kinds = await items.evaluateAll((lis) =>
      lis.map((li) => ({ kind: li.getAttribute('data-kind'), text: li.textContent ?? '' })),
    );
    const statusError = kinds.findIndex((k) => k.kind === 'status' && /\berror\b/i.test(k.text));
    const errorItem = kinds.findIndex((k) => k.kind === 'error' && k.text.includes('AGT-PROVIDER-BILLING'));
    expect(statusError).toBeGreaterThanOrEqual(0);
    expect(errorItem).toBeGreaterThan(statusError);
    const firstStatus = kinds.findIndex((k) => k.kind === 'status');
    expect(firstStatus).toBe(0);

    const errorLi = items.nth(errorItem);
    await expect(errorLi.locator('.friendly').textContent()).resolves.toBe(BILLING_MESSAGE);
    const tech = errorLi.locator('details.tech');
    await expect(tech.evaluate((d) => (d as HTMLDetailsElement).open)).resolves.toBe(false);
    const technical = tech.getByText(/credit balance is too low/).first();
    await expect(technical.isVisible()).resolves.toBe(false);
    await tech.locator('summary').click();
    await expect(technical.isVisible()).resolves.toBe(true);
    await tech.locator('summary').click(); // folded again for the screenshot
    await screenshot('session');
  });

  it('shows a stuck session with how long it has been silent and where it stopped', async () => {
    await open(`/sessions/${ids.silent}`);
    const head = page.locator('.session-head');
    await head.getByText(/No sign of life for/).waitFor();
    // The watchdog's code is not shown as an error the user read: they saw the work hang.
    const flagged = head.getByTestId('last-error');
    await expect(flagged.textContent()).resolves.toContain('Flagged by Faultline');
    await expect(flagged.textContent()).resolves.toContain(getCatalogEntry('AGT-SESSION-STUCK')!.userSaw);
    await expect(head.locator('.friendly').count()).resolves.toBe(0);
    await expect(head.textContent()).resolves.toContain('Working on the refactor…');
    await expect(head.getByTestId('customer-message').locator('.customer-text').textContent()).resolves.toMatch(
      /^Your request stopped making progress: .*no error was shown to you/,
    );
    // "Latest output" does not point at "that error": the session produced none.
    const latestPanel = page.locator('section[aria-labelledby="latest-h"]');
    await latestPanel.getByText(/went quiet without an answer or an error of its own/).waitFor();
    await expect(latestPanel.textContent()).resolves.not.toContain('that error');
    await screenshot('session-stuck');

    // A plain OpenTelemetry session: no status spans, still a readable page.
    await open(`/sessions/${ids.otel}`);
    await expect(page.locator('.session-head .friendly').textContent()).resolves.toBe(
      renderUserMessage('AGT-PROVIDER-RATE-LIMIT', { provider: 'openai' }),
    );
    // Its one call failed and nothing succeeded after it: derived "failed", said in words.
    await page.locator('.session-head').getByText('failed', { exact: true }).waitFor();
    await page.locator('.session-head').getByText(/^Failed: the last call ended in an error/).waitFor();
    // A plain producer records no retries: nothing claims one.
    const otelWords = (await page.getByTestId('customer-message').locator('.customer-text').textContent()) ?? '';
    expect(otelWords).toMatch(/OpenAI is limiting how many requests/);
    // The catalog's own words already invite a retry; the customer message says it once.
    expect(otelWords).toMatch(/Please try again in a minute\./);
    expect(otelWords.match(/try again/gi)).toHaveLength(1);
    expect(otelWords).toMatch(/This is usually temporary; if it keeps happening, tell us/);
    expect(otelWords).not.toMatch(/retried/);
    await expect(page.locator('.session-head dl.meta').textContent()).resolves.toMatch(/Retries\s*none recorded/);
    await screenshot('session-otel');
  });

  it('explains a code for support staff, and the lookup box finds a session by id', async () => {
    await open('/codes');
    const card = page.locator('li.code-card').filter({ has: page.getByRole('link', { name: 'AGT-PROVIDER-BILLING', exact: true }) });
    await card.waitFor();
    const entry = getCatalogEntry('AGT-PROVIDER-BILLING')!;
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('What the user saw');
    expect(text).toMatch(/What to tell them/);
    expect(text).toMatch(/what to check/i);
    expect(text).toContain(entry.supportNote);
    await screenshot('codes');

    // Support hears the customer's words, not a code.
    await page.getByLabel('Words in the message or advice').fill('out of credits');
    await page.waitForURL(/q=out\+of\+credits|q=out%20of%20credits/);
    await expect.poll(() => page.locator('li.code-card').count()).toBe(1);
    await card.waitFor();

    const lookup = page.locator('main form[role="search"]');
    await lookup.getByRole('searchbox').fill(ids.crash);
    await lookup.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(`**/sessions/${ids.crash}`);
    await expect(page.locator('main h1').textContent()).resolves.toContain(ids.crash);
    await page.getByText(renderUserMessage('AGT-TIMEOUT-HEARTBEAT')).first().waitFor();

    await open('/codes/AGT-PROVIDER-BILLING');
    await page.getByText(entry.operatorHint).waitFor();
    await page.locator('section[aria-labelledby="cs-h"]').getByRole('link', { name: ids.billing }).waitFor();
    await screenshot('code');
  });

  it('shows a new error live, without a reload', async () => {
    await open('/');
    const failed = page.locator('section[aria-labelledby="failed-h"]');
    await failed.getByRole('link', { name: ids.billing }).waitFor();
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await page.locator('.conn-live').waitFor();

    await billingSession(faultline, ids.live);
    await faultline.flush();

    await failed.getByRole('link', { name: ids.live }).waitFor({ timeout: 15_000 });
    await expect(page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).resolves.toBe(true);
  });

  it('works with the keyboard: Tab reaches the nav links and Enter follows one', async () => {
    await open('/');
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'Errors'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => {
        const el = document.activeElement;
        return el?.closest('nav[aria-label="Main"]') ? (el.textContent ?? '').trim() : '';
      });
    }
    expect(focused).toBe('Errors');
    // The focus ring is visible (never outline: none on a focused link).
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/errors$/);
    await expect(page.locator('main h1').textContent()).resolves.toBe('Errors');
    // Focus moved to the new view's heading, so the next Tab continues in the page.
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await page.getByText('AGT-PROVIDER-BILLING').first().waitFor();
    await screenshot('errors');
  });

  it('shows the focus ring of a segmented control in full, not clipped by its box', async () => {
    await open('/timeouts');
    const group = page.getByRole('group', { name: 'Time window' });
    const target = group.getByRole('link').nth(1);
    const targetName = ((await target.textContent()) ?? '').trim();
    let focused = '';
    for (let i = 0; i < 25 && focused !== targetName; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => (document.activeElement?.closest('.segmented') ? (document.activeElement.textContent ?? '').trim() : ''));
    }
    expect(focused).toBe(targetName);
    // The ring is drawn, and no ancestor clips any part of it (overflow: hidden did).
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      const reach = parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
      const r = el.getBoundingClientRect();
      const clippedBy: string[] = [];
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflow === 'visible') continue;
        const b = a.getBoundingClientRect();
        if (r.left - reach < b.left || r.top - reach < b.top || r.right + reach > b.right || r.bottom + reach > b.bottom) clippedBy.push(a.className);
      }
      return { style: style.outlineStyle, reach, clippedBy };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.reach).toBeGreaterThan(0);
    expect(ring.clippedBy).toEqual([]);
    const box = (await group.boundingBox())!;
    await page.screenshot({ path: path.join(ARTIFACTS, 'focus-segmented.png'), clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height: box.height + 16 } });
  });

  it('charts timeouts by kind, with the worker crash and the tool timeout', async () => {
    await open('/timeouts');
    const main = page.locator('main');
    // Kinds in words, the raw kind beside them for operators.
    const row = (kind: string) => main.locator('tbody tr').filter({ hasText: kind });
    await expect(row('worker went silent').textContent()).resolves.toMatch(/heartbeat\s*1\s*1/);
    await expect(row('coding agent too slow').textContent()).resolves.toMatch(/cli_exec\s*1\s*1/);
    await main.locator('.chart-canvas canvas').waitFor();
    await screenshot('timeouts');
  });

  it('shows the scenarios view', async () => {
    await open('/scenarios');
    await expect(page.locator('main h1').textContent()).resolves.toBe('Scenarios');
    // The list, or an error box saying what failed; never a blank page.
    await page.locator('main .panel, main .callout, main .empty, main [role="alert"]').first().waitFor();
    await screenshot('scenarios');
  });

  it('raised no uncaught script error on any view', () => {
    expect(pageErrors).toEqual([]);
  });
});
