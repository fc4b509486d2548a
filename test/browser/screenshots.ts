/**
 * `npm run screenshots`: every dashboard view at 1280×800, in real Chromium, against a collector
 * holding 50,000 sessions (14 days of history), for people to look at before a release.
 *
 * The history is seeded with SQL (`generate_series`, catalog codes and their real user messages);
 * then a few sessions arrive the way production ones do, through the Faultline SDK and the official
 * OpenTelemetry exporter: a provider billing failure, a rate limit that was retried, a session that
 * goes silent (the watchdog flags it and a stuck alert is delivered to a local webhook) and a plain
 * OpenTelemetry 429. Each view is saved twice under test/artifacts/screenshots/: `NN-view.png` (the
 * first screen a person sees) and `NN-view-full.png` (the whole page), with the time until the view
 * showed its data.
 *
 * Storage: embedded PGlite in memory, or with DATABASE_URL a throwaway database on that server
 * (created and dropped by the script). Options: `--sessions N` (default 50000), `--keep` (leave the
 * collector running until Ctrl+C, to look around), `PORT` (default: any free port).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { chromium, type Page } from 'playwright-core';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { getCatalogEntry, renderUserMessage } from '@faultline/schema';
import { init } from '@faultline/sdk';
import { testConfig } from '../../collector/src/config.ts';
import { DASHBOARD_DIST } from '../../collector/src/app.ts';
import { startCollector, type RunningCollector } from '../../collector/src/server.ts';
import { pgliteStore, postgresStore, type Store } from '../../collector/src/store/db.ts';
import { CHROMIUM, HAVE_CHROMIUM } from './chromium.ts';
import { BadRequestError, sleep } from '../../examples/simulated-failures.ts';

export const SCREENSHOTS_DIR = fileURLToPath(new URL('../artifacts/screenshots/', import.meta.url));

const SERVICES = ['support-agent', 'coding-agent', 'research-agent', 'billing-bot'];
const MODELS: [provider: string, model: string][] = [
  ['anthropic', 'claude-sonnet-4-5'],
  ['openai', 'gpt-5'],
  ['gcp.gemini', 'gemini-2.5-pro'],
];
/** Codes of the seeded history, repeated by how often they happen; with the raw text an upstream would send. */
const HISTORY_CODES: [code: string, weight: number, technical: string][] = [
  ['AGT-PROVIDER-RATE-LIMIT', 8, '429 Rate limit reached for requests per min (RPM): Limit 500, Used 500'],
  ['AGT-PROVIDER-OVERLOADED', 5, '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
  ['AGT-PROVIDER-TIMEOUT', 4, 'fetch failed: ETIMEDOUT'],
  ['AGT-TOOL-FAILED', 4, 'web_fetch returned HTTP 404 for the requested page'],
  ['AGT-PROVIDER-BILLING', 2, 'Your credit balance is too low to access the Anthropic API.'],
  ['AGT-TIMEOUT-HEARTBEAT', 2, 'Activity Heartbeat timeout'],
  ['AGT-TIMEOUT-CLI-EXEC', 2, 'claude exec timed out after 900s'],
  ['AGT-PROVIDER-CONTEXT-OVERFLOW', 2, 'prompt is too long: 212044 tokens > 200000 maximum'],
  ['AGT-SANDBOX-CREATE-FAILED', 1, 'Modal AuthError: Token ID is malformed'],
  ['AGT-WORKER-EXECUTION-FAILED', 1, "Execution failed: KeyError: 'repository'"],
  ['AGT-CLI-NONZERO-EXIT', 1, 'gemini exited with code 1'],
  ['AGT-WORKER-UNKNOWN', 1, "TypeError: Cannot read properties of undefined (reading 'id')"],
];

const sqlText = (s: string | null) => (s === null ? 'null' : `'${s.replace(/'/g, "''")}'`);
const sqlArray = (values: (string | null)[]) => `(array[${values.map(sqlText).join(',')}]::text[])`;

/**
 * History: session i was last seen i × (14 days / n) ago. Most completed; 4 % ended in `error`; 1 in
 * 3 hit an error on the way (a code from HISTORY_CODES with its catalog message, filled in with the
 * session's provider and model); a few of the newest are still starting or running.
 */
export async function seedHistory(store: Store, sessions: number): Promise<void> {
  const codes = HISTORY_CODES.flatMap(([code, weight, technical]) => Array.from({ length: weight }, () => ({ code, technical })));
  const entries = codes.map(({ code }) => getCatalogEntry(code)!);
  const messages = codes.flatMap(({ code }) => MODELS.map(([provider, model]) => renderUserMessage(code, { provider, model })));
  const everySeconds = (14 * 86_400) / sessions;
  const pick = (arr: string, of: number, by: string) => `${arr}[((${by}) % ${of}) + 1]`;
  const codeOf = pick(sqlArray(codes.map((c) => c.code)), codes.length, 'i / 3');
  const categoryOf = pick(sqlArray(entries.map((e) => e.category)), codes.length, 'i / 3');
  const timeoutOf = pick(sqlArray(entries.map((e) => e.timeoutKind ?? null)), codes.length, 'i / 3');
  const retryableOf = pick(sqlArray(entries.map((e) => e.retryable)), codes.length, 'i / 3');
  const technicalOf = pick(sqlArray(codes.map((c) => c.technical)), codes.length, 'i / 3');
  const messageOf = `${sqlArray(messages)}[((i / 3) % ${codes.length}) * ${MODELS.length} + (i % ${MODELS.length}) + 1]`;
  const provider = pick(sqlArray(MODELS.map((m) => m[0])), MODELS.length, 'i');
  const model = pick(sqlArray(MODELS.map((m) => m[1])), MODELS.length, 'i');
  const service = pick(sqlArray(SERVICES), SERVICES.length, 'i');
  const rows = `(select i, now() - make_interval(secs => 30 + i * ${everySeconds}) as ls,
      case when i < 200 and i % 40 = 0 then 'running' when i < 200 and i % 40 = 1 then 'starting'
        when i < 200 and i % 40 = 2 then 'waiting_input' when i % 25 = 3 then 'error' when i % 61 = 5 then 'stopped'
        else 'completed' end as st,
      i % 3 = 0 or i % 25 = 3 as failed
    from generate_series(0, ${sessions - 1}) as i) s`;
  const id = `'hist-' || lpad(i::text, 6, '0')`;
  await store.query(`
    insert into sessions (id, service, agent, provider, model, state, status_message, state_at, stuck, last_error_code,
      last_error_category, last_error_message, last_error_at, started_at, last_seen_at, ended_at, error_count, span_count, last_trace_id)
    select ${id}, ${service}, 'assistant', ${provider}, ${model}, st,
      case st when 'running' then 'Working on the request…' when 'starting' then 'Creating execution environment…'
        when 'waiting_input' then 'Waiting for approval' when 'completed' then 'Done' end, ls, false,
      case when failed then ${codeOf} end, case when failed then ${categoryOf} end, case when failed then ${messageOf} end,
      case when failed then ls - interval '20 s' end,
      ls - interval '95 s', ls, case when st in ('completed', 'error', 'stopped') then ls end,
      case when failed then 1 else 0 end, case when failed then 4 else 3 end, md5('t' || i)
    from ${rows}`);
  await store.query(`
    insert into spans (trace_id, span_id, parent_span_id, session_id, service, name, span_type, kind, start_time, end_time,
      duration_ms, status_code, status_message, error_code, attributes, events, resource)
    select md5('t' || i), substr(md5('s' || i || '-' || j), 1, 16), case when j > 0 then substr(md5('s' || i || '-0'), 1, 16) end,
      ${id}, ${service},
      case j when 0 then 'faultline.session.status' when 1 then 'invoke_agent assistant' when 2 then 'execute_tool web_fetch' else 'faultline.session.status' end,
      case j when 0 then 'status' when 1 then 'turn' when 2 then 'tool' else 'status' end,
      1, ls - make_interval(secs => (3 - j) * 25), ls - make_interval(secs => (3 - j) * 25) + interval '1200 ms', 1200,
      case when j = 2 and failed then 2 else 0 end,
      case when j = 2 and failed then ${technicalOf} end,
      case when j = 2 and failed then ${codeOf} end,
      jsonb_build_object('session.id', ${id}, 'gen_ai.agent.name', 'assistant', 'gen_ai.provider.name', ${provider},
        'gen_ai.request.model', ${model}, 'faultline.session.state', case when j = 0 then 'starting' else st end),
      '[]'::jsonb, jsonb_build_object('service.name', ${service})
    from ${rows}, generate_series(0, 3) as j
    where j < 3 or st in ('completed', 'error', 'stopped')`);
  await store.query(`
    insert into errors (id, at, session_id, trace_id, span_id, service, code, category, message, technical_message,
      exception_type, fingerprint, timeout_kind, http_status, retryable, attributes, classifier_rule, classifier_signal)
    select md5('t' || i) || ':' || substr(md5('s' || i || '-2'), 1, 16), ls - interval '20 s', ${id},
      md5('t' || i), substr(md5('s' || i || '-2'), 1, 16), ${service}, ${codeOf}, ${categoryOf}, ${messageOf}, ${technicalOf},
      'APIError', 'hist-' || md5(${codeOf}) || '-' || (i % 3), ${timeoutOf}, 500, ${retryableOf}, '{}'::jsonb, 'seeded-history', null
    from ${rows} where failed`);
  await store.query(`
    insert into error_groups (fingerprint, code, category, exception_type, sample_message, first_seen, last_seen, count)
    select e.fingerprint, min(e.code), min(e.category), 'APIError', min(e.technical_message), min(e.at), max(e.at), count(*)
    from errors e where e.classifier_rule = 'seeded-history' group by e.fingerprint
    on conflict (fingerprint) do nothing`);
  await store.query('analyze');
}

/** A local webhook receiver for the stuck alert: answers 200 to everything. */
async function startReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hooks/faultline`, close: () => new Promise((r) => server.close(() => r())) };
}

async function api(collector: RunningCollector, pathname: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`${collector.url}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${pathname} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string };
}

/** The sessions a person opens: sent as production sends them, newest of all. */
async function sendLive(collector: RunningCollector, spoolDir: string): Promise<{ billing: string; retried: string; silent: string; otel: string }> {
  const run = Date.now().toString(36);
  const ids = { billing: `sess-billing-${run}`, retried: `sess-rate-limited-${run}`, silent: `sess-silent-${run}`, otel: `conv-otel-429-${run}` };
  const faultline = init({ serviceName: 'support-agent', endpoint: collector.url, spoolDir, heartbeatIntervalMs: 0, scheduledDelayMillis: 50 });
  try {
    const billing = faultline.startSession({ stuckAfterMs: 600_000, id: ids.billing, agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5', statusMessage: 'Creating execution environment…' });
    billing.status('ready', 'Ready');
    await billing.turn('reply', async () => {
      await sleep(20);
      throw new BadRequestError();
    }).catch(() => {});

    // Retried twice (recorded as `retrying` states), then gave up with the rate limit.
    const retried = faultline.startSession({ stuckAfterMs: 600_000, id: ids.retried, agent: 'researcher', provider: 'openai', model: 'gpt-5' });
    retried.status('running', 'Searching the web…');
    for (let attempt = 1; attempt <= 2; attempt++) {
      retried.status('retrying', `Rate limited, attempt ${attempt + 1} of 3`);
      retried.status('running', 'Searching the web…');
    }
    const rateLimit = Object.assign(new Error('429 Rate limit reached for gpt-5 in organization org-xyz on requests per min (RPM): Limit 500, Used 500.'), { status: 429 });
    rateLimit.name = 'RateLimitError';
    retried.fail(rateLimit);

    const silent = faultline.startSession({ id: ids.silent, agent: 'coder', provider: 'openai', model: 'gpt-5' });
    silent.status('running', 'Working on the refactor…');
    await faultline.flush();
  } finally {
    await faultline.shutdown();
  }

  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'plain-otel-chat' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }))],
  });
  const span = provider.getTracer('screenshots').startSpan('chat gpt-4o', {
    attributes: { 'gen_ai.conversation.id': ids.otel, 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'http.response.status_code': 429 },
  });
  const error = Object.assign(new Error('429 Rate limit reached for gpt-4o in organization org-xyz on requests per min (RPM): Limit 500, Used 500.'), { name: 'RateLimitError' });
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
  return ids;
}

export interface Shot {
  name: string;
  path: string;
  /** From navigation to the view showing its data (no "Loading…" left). */
  readyMs: number;
  /** Horizontal overflow at 1280 px, in px (0: none). */
  overflowPx: number;
}

async function shoot(page: Page, base: string, outDir: string, n: number, name: string, pathname: string, ready?: (page: Page) => Promise<void>): Promise<Shot> {
  const started = performance.now();
  await page.goto(`${base}${pathname}`);
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !/Loading[ .…]/.test(document.querySelector('main')?.textContent ?? ''), undefined, { timeout: 30_000 });
  if (ready) await ready(page);
  const readyMs = Math.round(performance.now() - started);
  await page.waitForTimeout(400); // charts draw on the next frames
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflowPx = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const file = `${String(n).padStart(2, '0')}-${name}`;
  await page.screenshot({ path: path.join(outDir, `${file}.png`) });
  await page.screenshot({ path: path.join(outDir, `${file}-full.png`), fullPage: true });
  return { name, path: path.join(outDir, `${file}.png`), readyMs, overflowPx };
}

export async function takeScreenshots(options: { sessions: number; outDir?: string; keep?: boolean; port?: number; log?: (line: string) => void }): Promise<{ shots: Shot[]; pageErrors: string[] }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const outDir = options.outDir ?? SCREENSHOTS_DIR;
  if (!existsSync(path.join(DASHBOARD_DIST, 'index.html'))) throw new Error('The dashboard is not built: run `npm run build` first.');
  if (!HAVE_CHROMIUM) throw new Error(`No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` or set FAULTLINE_CHROMIUM.`);
  await mkdir(outDir, { recursive: true });

  let store: Store;
  let dropDatabase: (() => Promise<void>) | null = null;
  if (process.env.DATABASE_URL) {
    const base = process.env.DATABASE_URL;
    const name = `faultline_screenshots_${process.pid}`;
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    store = postgresStore(url.toString(), { max: 4 });
    dropDatabase = async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await a.end();
    };
    log(`storage: Postgres, throwaway database ${name}`);
  } else {
    store = pgliteStore(await PGlite.create(), 'in-memory PGlite');
    log('storage: in-memory PGlite (set DATABASE_URL to use Postgres)');
  }
  await store.migrate();
  let t = performance.now();
  await seedHistory(store, options.sessions);
  log(`seeded ${options.sessions.toLocaleString('en')} sessions of history in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const collector = await startCollector(
    testConfig({ port: options.port ?? 0, host: '127.0.0.1', stuckThresholdsMs: { starting: 4_000, running: 4_000, retrying: 4_000 }, sweepIntervalMs: 500 }),
    { store },
  );
  const receiver = await startReceiver();
  const spoolDir = await mkdtemp(path.join(tmpdir(), 'faultline-screenshots-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
  const pageErrors: string[] = [];
  try {
    log(`collector: ${collector.url}`);
    const destination = await api(collector, '/api/alerts/destinations', { name: 'On-call webhook', kind: 'webhook', url: receiver.url });
    await api(collector, '/api/alerts/rules', { name: 'Stuck sessions', kind: 'stuck_session', destinations: [destination.id] });
    const ids = await sendLive(collector, spoolDir);
    // The silent session is flagged after its 4 s threshold and a sweep; wait until it shows.
    t = performance.now();
    for (;;) {
      const detail = (await (await fetch(`${collector.url}/api/sessions/${ids.silent}`)).json()) as { session: { stuck: boolean } };
      if (detail.session.stuck) break;
      if (performance.now() - t > 30_000) throw new Error('The silent session was not flagged stuck within 30 s.');
      await sleep(250);
    }

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(30_000);
    const views: [name: string, pathname: string, ready?: (page: Page) => Promise<void>][] = [
      ['overview', '/', (p) => p.locator('.chart-canvas canvas').first().waitFor()],
      ['sessions', '/sessions'],
      ['session-failed', `/sessions/${ids.billing}`],
      ['session-retried', `/sessions/${ids.retried}`],
      ['session-stuck', `/sessions/${ids.silent}`],
      ['session-otel', `/sessions/${ids.otel}`],
      ['errors', '/errors'],
      ['code', '/codes/AGT-PROVIDER-RATE-LIMIT'],
      ['codes', '/codes'],
      ['timeouts', '/timeouts', (p) => p.locator('.chart-canvas canvas').first().waitFor()],
      ['scenarios', '/scenarios'],
      ['alerts', '/alerts'],
      ['deliveries', '/alerts/deliveries'],
    ];
    const shots: Shot[] = [];
    for (const [i, [name, pathname, ready]] of views.entries()) {
      const shot = await shoot(page, collector.url, outDir, i + 1, name, pathname, ready);
      shots.push(shot);
      log(`  ${shot.name.padEnd(16)} ready in ${String(shot.readyMs).padStart(5)} ms${shot.overflowPx > 0 ? `  (scrolls sideways by ${shot.overflowPx} px)` : ''}  ${path.relative(process.cwd(), shot.path)}`);
    }
    if (pageErrors.length > 0) log(`page errors:\n  ${pageErrors.join('\n  ')}`);
    if (options.keep) {
      log(`Leaving the collector running at ${collector.url} — Ctrl+C to stop.`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return { shots, pageErrors };
  } finally {
    await browser.close();
    await collector.close();
    await receiver.close();
    await rm(spoolDir, { recursive: true, force: true });
    await dropDatabase?.();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values } = parseArgs({ options: { sessions: { type: 'string', default: '50000' }, keep: { type: 'boolean', default: false } } });
  const sessions = Number(values.sessions);
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 1_000_000) {
    console.error(`--sessions must be a whole number from 1 to 1000000 (got ${values.sessions}).`);
    process.exit(2);
  }
  const port = process.env.PORT ? Number(process.env.PORT) : 0;
  takeScreenshots({ sessions, keep: values.keep, port }).then(
    ({ pageErrors }) => process.exit(pageErrors.length > 0 ? 1 : 0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
