/**
 * The live stream during an incident, in real Chromium with the browser's own EventSource (no
 * fakes): 50 errors sent over 10 s through the official OpenTelemetry OTLP/proto exporter must
 * all reach the Overview and Sessions pages without a reload and without one reconnect; a stream
 * the collector drops must resume after its last event id and lose nothing, without refetching;
 * and a page load must fetch its data once (the stream opening is no reason to fetch again).
 *
 * The pages are instrumented (an init script wraps window.EventSource and fetch) to count
 * connections, connection errors, events by name and API requests; the header's connection
 * status is watched for "Reconnecting" from the first paint.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import { DASHBOARD_DIST } from '../../collector/src/app.ts';
import { hubOf } from '../../collector/src/api/stream.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { CHROMIUM, RUN_BROWSER_TESTS, requireChromium } from './chromium.ts';

interface Probe {
  /** EventSource objects created, with their URLs. */
  sources: string[];
  opens: number;
  /** `error` events on any EventSource (a dropped or refused connection). */
  errors: number;
  /** Stream events received, by name. */
  events: Record<string, number>;
  /** API requests, by path and query. */
  fetches: string[];
  /** Every status the header showed, in order. */
  statuses: string[];
}

/** Runs in the page before the app: counts what the real EventSource and fetch do. */
function instrument(): void {
  const probe: Probe = { sources: [], opens: 0, errors: 0, events: {}, fetches: [], statuses: [] };
  (window as unknown as { probe: Probe }).probe = probe;
  const Native = window.EventSource;
  const names = ['hello', 'reset', 'session', 'occurrence', 'stuck', 'scenario', 'error'];
  class Counted extends Native {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init);
      probe.sources.push(String(url));
      this.addEventListener('open', () => probe.opens++);
      for (const name of names) {
        this.addEventListener(name, (e) => {
          if (name === 'error' && !(e instanceof MessageEvent)) probe.errors++;
          else probe.events[name] = (probe.events[name] ?? 0) + 1;
        });
      }
    }
  }
  window.EventSource = Counted;
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.pathname.startsWith('/api/')) probe.fetches.push(url.pathname + url.search);
    return nativeFetch(input, init);
  };
  const watch = () => {
    const el = document.querySelector('p.conn');
    if (!el) return;
    const status = [...el.classList].find((c) => c.startsWith('conn-') && c !== 'conn')!;
    if (probe.statuses.at(-1) !== status) probe.statuses.push(status);
  };
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
}

const probeOf = (page: Page) => page.evaluate(() => (window as unknown as { probe: Probe }).probe);

const run = Date.now().toString(36);
const sessionId = (i: number) => `incident-${run}-${String(i).padStart(2, '0')}`;

/** A producer that knows nothing of Faultline: the official OTLP/proto exporter, one failed LLM call per session. */
function otelProducer(url: string) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'incident-chat' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
  });
  const tracer = provider.getTracer('live-stream-test');
  return {
    fail(id: string) {
      const span = tracer.startSpan('chat gpt-4o', {
        attributes: { 'gen_ai.conversation.id': id, 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'http.response.status_code': 429 },
      });
      const error = new Error('429 Rate limit reached for gpt-4o in organization org-xyz on requests per min (RPM): Limit 500, Used 500.');
      error.name = 'RateLimitError';
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span.end();
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

describe.skipIf(!RUN_BROWSER_TESTS)('live stream in Chromium during an incident', () => {
  let collector: RunningCollector;
  let browser: Browser;
  let overview: Page;
  let sessions: Page;
  let producer: ReturnType<typeof otelProducer>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(DASHBOARD_DIST, 'index.html'))) {
      throw new Error('The dashboard is not built: run `npm run build` (npm install and npm test do it first).');
    }
    requireChromium();
    collector = await startTestCollector(STORAGES[0], { sweepIntervalMs: 60_000 });
    producer = otelProducer(collector.url);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(instrument);
    overview = await context.newPage();
    sessions = await context.newPage();
    for (const page of [overview, sessions]) {
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.setDefaultTimeout(20_000);
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await producer?.shutdown();
    await collector?.close();
  });

  it('fetches each page’s data once on load: the stream opening triggers no second fetch', async () => {
    await overview.goto(`${collector.url}/`);
    await sessions.goto(`${collector.url}/sessions`);
    for (const page of [overview, sessions]) {
      await page.locator('main h1').first().waitFor();
      await page.locator('.conn-live').waitFor();
    }
    // Give a refetch that would follow the open time to happen.
    await new Promise((r) => setTimeout(r, 1500));
    for (const page of [overview, sessions]) {
      const probe = await probeOf(page);
      const data = probe.fetches.filter((f) => !f.startsWith('/api/stream'));
      expect(data.length, `${page.url()} fetched ${JSON.stringify(data)}`).toBeGreaterThan(0);
      expect(new Set(data).size, `${page.url()} fetched ${JSON.stringify(data)}`).toBe(data.length);
      expect(probe.sources).toHaveLength(1);
      expect(probe.events.hello).toBe(1);
    }
  });

  it('shows all 50 errors sent over 10 s on Overview and Sessions, live, with zero reconnects', async () => {
    const before = await Promise.all([overview, sessions].map(probeOf));
    for (let i = 0; i < 50; i++) {
      producer.fail(sessionId(i));
      await new Promise((r) => setTimeout(r, 200));
    }
    await producer.flush();

    // Sessions: every one of the 50 sessions is listed, merged in from the stream.
    const table = sessions.locator('table.sessions');
    await expect.poll(() => table.locator('a', { hasText: `incident-${run}-` }).count(), { timeout: 20_000 }).toBe(50);
    // Overview: the errors card counts all 50, and the failed list shows the latest.
    await overview.locator('ul.cards a[href^="/errors"] .card-n', { hasText: /^50$/ }).waitFor({ timeout: 20_000 });
    await overview.locator('section[aria-labelledby="failed-h"]').getByRole('link', { name: sessionId(49) }).waitFor();

    for (const [i, page] of [overview, sessions].entries()) {
      const probe = await probeOf(page);
      // One connection for the whole burst: never dropped, never reopened.
      expect(probe.sources, page.url()).toHaveLength(1);
      expect(probe.opens, page.url()).toBe(1);
      expect(probe.errors, page.url()).toBe(0);
      expect(probe.events.error ?? 0).toBe(0);
      expect(probe.statuses.filter((s) => s !== 'conn-connecting' && s !== 'conn-live'), page.url()).toEqual([]);
      // Every occurrence arrived as an event; no reset asked for a refetch.
      expect((probe.events.occurrence ?? 0) - (before[i].events.occurrence ?? 0)).toBe(50);
      expect(probe.events.reset ?? 0).toBe(0);
    }
    // The Sessions page merged the events; it did not refetch the list to find them.
    const list = (await probeOf(sessions)).fetches.filter((f) => f.startsWith('/api/sessions'));
    expect(list).toHaveLength(before[1].fetches.filter((f) => f.startsWith('/api/sessions')).length);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('resumes a stream the collector dropped after the last event id, losing nothing and refetching nothing', async () => {
    const before = await probeOf(sessions);
    const hub = hubOf(collector.deps);
    expect(hub.viewerCount).toBe(2);
    hub.disconnectAll();
    // While both pages are reconnecting (their backoff is about a second), ten more sessions fail.
    for (let i = 50; i < 60; i++) producer.fail(sessionId(i));
    await producer.flush();

    const table = sessions.locator('table.sessions');
    await expect.poll(() => table.locator('a', { hasText: `incident-${run}-` }).count(), { timeout: 20_000 }).toBe(60);
    await overview.locator('ul.cards a[href^="/errors"] .card-n', { hasText: /^60$/ }).waitFor({ timeout: 20_000 });
    await sessions.locator('.conn-live').waitFor();

    const after = await probeOf(sessions);
    expect(after.sources).toHaveLength(2);
    // A new EventSource cannot send Last-Event-ID: the dashboard passed its last id in the URL.
    expect(after.sources[1]).toMatch(/[?&]lastEventId=[A-Za-z0-9]+-\d+/);
    expect(after.events.reset ?? 0).toBe(0);
    expect((after.events.occurrence ?? 0) - (before.events.occurrence ?? 0)).toBe(10);
    // Resumed, not refetched: the list request count did not move.
    expect(after.fetches.filter((f) => f.startsWith('/api/sessions')).length).toBe(before.fetches.filter((f) => f.startsWith('/api/sessions')).length);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
