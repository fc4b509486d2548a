import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { init } from './faultline.ts';
import type { Faultline } from './faultline.ts';
import { emptyStats } from './guard.ts';
import { SpoolReplayer } from './replay.ts';
import { Spool, boundSpoolDir } from './spool.ts';
import { startFakeCollector } from './test-support.ts';
import type { FakeCollector } from './test-support.ts';

/** Notes the id of every span the runtime ended, beside the real pipeline. */
function recordEndedSpans() {
  const ids: string[] = [];
  const processor: SpanProcessor = {
    onStart: () => {},
    onEnd: (span) => void ids.push(span.spanContext().spanId),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  return { processor, ended: () => [...ids] };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-spool-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function collector(status: number, port = 0): Promise<FakeCollector> {
  const c = await startFakeCollector(status, port);
  cleanups.push(() => c.close());
  return c;
}

function faultlineFor(url: string, spoolDir: string, extra: { exporter?: SpanExporter; processor?: SpanProcessor } = {}): Faultline {
  const faultline = init({
    serviceName: 'spool-test',
    endpoint: url,
    spoolDir,
    exporter: extra.exporter,
    spanProcessors: extra.processor ? [extra.processor] : [],
    heartbeatIntervalMs: 0,
    exportTimeoutMs: 300,
    replayInitialDelayMs: 20,
    replayMaxDelayMs: 100,
    shutdownTimeoutMs: 300,
  });
  cleanups.push(() => faultline.shutdown());
  return faultline;
}

/** A few sessions with turns, a tool and a failure: a realistic mix of spans. */
async function runSomeSessions(faultline: Faultline, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const session = faultline.startSession({ agent: 'coder' });
    await session.turn('reply', () => session.tool('bash', () => 'ok'));
    if (i % 2 === 0) session.fail(new Error('Your credit balance is too low to access the Anthropic API.'));
    else session.end();
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function counts(ids: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
  return map;
}

describe('live export', () => {
  it('sends OTLP protobuf to <endpoint>/v1/traces with the ingest key, live and on replay', async () => {
    const server = await collector(503);
    const faultline = init({
      serviceName: 'key-test',
      endpoint: `${server.url}/`,
      ingestKey: 'fl_ingest_123',
      spoolDir: tempDir(),
      heartbeatIntervalMs: 0,
      exportTimeoutMs: 300,
      replayInitialDelayMs: 20,
      shutdownTimeoutMs: 300,
    });
    cleanups.push(() => faultline.shutdown());
    await runSomeSessions(faultline, 1);
    await faultline.flush();
    server.answer(200);
    await faultline.flush(); // replay
    await runSomeSessions(faultline, 1);
    await faultline.flush(); // live
    expect(faultline.stats().replayedBatches).toBeGreaterThan(0);
    expect(server.received.length).toBeGreaterThan(10);
    expect(server.authorizations.length).toBeGreaterThan(1);
    expect(new Set(server.authorizations)).toEqual(new Set(['Bearer fl_ingest_123']));
  });
});

describe('spool: nothing lost in an outage', () => {
  it('spools batches the collector refuses with 503 and delivers each span exactly once when it recovers', async () => {
    const server = await collector(503);
    const spoolDir = tempDir();
    const spans = recordEndedSpans();
    const faultline = faultlineFor(server.url, spoolDir, { processor: spans.processor });

    await runSomeSessions(faultline, 3);
    await faultline.flush();
    await runSomeSessions(faultline, 2); // while known to be down: straight to the spool
    await faultline.flush();

    const during = faultline.stats();
    expect(server.received).toHaveLength(0);
    expect(during.exportFailures).toBeGreaterThan(0);
    expect(during.spooledBatches).toBeGreaterThan(0);
    expect(during.pendingBatches).toBeGreaterThan(0);
    expect(readdirSync(faultline.spoolDir!).some((name) => name.endsWith('-err.otlp'))).toBe(true);

    server.answer(200);
    await until(() => !faultline.stats().collectorUnreachable, 'the replay loop to drain the spool');
    expect(faultline.stats().pendingBatches).toBe(0);
    await runSomeSessions(faultline, 1); // back to live export
    await faultline.flush();

    const ended = new Set(spans.ended());
    expect(ended.size).toBeGreaterThan(20);
    const received = counts(server.received);
    expect(new Set(received.keys())).toEqual(ended);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(readdirSync(faultline.spoolDir!).filter((n) => n.endsWith('.otlp'))).toHaveLength(0);
    const after = faultline.stats();
    expect(after.replayedBatches).toBe(during.spooledBatches);
    expect(after.droppedSpans).toBe(0);
  });

  it('replays what an earlier process spooled when the SDK starts again with the same spool dir', async () => {
    const down = await collector(200);
    const port = Number(new URL(down.url).port);
    await down.close(); // collector stopped: connection refused
    const spoolDir = tempDir();

    const spans = recordEndedSpans();
    const before = faultlineFor(down.url, spoolDir, { processor: spans.processor });
    await runSomeSessions(before, 3);
    await before.shutdown();
    expect(before.stats().pendingBatches).toBeGreaterThan(0);
    expect(spans.ended().length).toBeGreaterThan(10);

    const up = await collector(200, port);
    const after = faultlineFor(up.url, spoolDir);
    await until(() => up.received.length >= spans.ended().length, 'replay after restart');
    await after.flush();

    const received = counts(up.received);
    expect(new Set(received.keys())).toEqual(new Set(spans.ended()));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(after.stats().pendingBatches).toBe(0);
  });
});

describe('spool size bound', () => {
  const URL_A = 'http://127.0.0.1:4318/v1/traces';
  const names = async (spool: Spool) => (await spool.rescan()).map((f) => [f.spans, f.hasError]);

  it('drops the oldest batches without errors first, keeps error batches, and counts dropped spans', async () => {
    const guard = { stats: emptyStats(), log: () => {} };
    const spool = new Spool(tempDir(), URL_A, 350, guard);
    const body = new Uint8Array(100);

    expect(await spool.write(body, 4, false)).toBe(true); // oldest, no errors
    expect(await spool.write(body, 5, true)).toBe(true); // has an error
    expect(await spool.write(body, 6, false)).toBe(true);
    expect(await spool.write(body, 7, false)).toBe(true); // 400 bytes > 350: one must go

    expect(await names(spool)).toEqual([
      [5, true],
      [6, false],
      [7, false],
    ]);
    expect(guard.stats.droppedSpans).toBe(4);

    expect(await spool.write(body, 8, true)).toBe(true);
    expect(await names(spool)).toEqual([
      [5, true],
      [7, false],
      [8, true],
    ]);
    expect(guard.stats.droppedSpans).toBe(10);
    expect(guard.stats.spooledBytes).toBe(300);
    expect(guard.stats.pendingBatches).toBe(3);
    expect(guard.stats.pendingSpans).toBe(20);
  });

  it('drops error batches too when nothing else is left, oldest first', async () => {
    const guard = { stats: emptyStats(), log: () => {} };
    const spool = new Spool(tempDir(), URL_A, 250, guard);
    const body = new Uint8Array(100);
    await Promise.all([spool.write(body, 1, true), spool.write(body, 2, true), spool.write(body, 3, true)]);
    expect((await spool.rescan()).map((f) => f.spans)).toEqual([2, 3]);
    expect(guard.stats.droppedSpans).toBe(1);
  });

  it('ignores half-written files from a crashed process and foreign files, and leaves a live writer alone', async () => {
    const root = tempDir();
    const dir = boundSpoolDir(root, URL_A);
    mkdirSync(dir, { recursive: true });
    const crashed = join(dir, '.tmp-0000000000001-1-000000-3-ok.otlp');
    writeFileSync(crashed, 'partial');
    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(crashed, longAgo, longAgo);
    // Another process sharing the directory is writing this one right now.
    writeFileSync(join(dir, '.tmp-0000000000002-2-000000-3-ok.otlp'), 'in progress');
    writeFileSync(join(dir, 'notes.txt'), 'not a batch');
    const spool = new Spool(root, URL_A, 1_000, { stats: emptyStats(), log: () => {} });
    expect(await spool.ready).toBe(true);
    expect(await spool.rescan()).toHaveLength(0);
    expect(readdirSync(dir).sort()).toEqual(['.tmp-0000000000002-2-000000-3-ok.otlp', 'endpoint', 'notes.txt']);
  });

  it('stays bounded end to end while the collector is down', async () => {
    const server = await collector(503);
    const spoolDir = tempDir();
    const faultline = init({
      serviceName: 'spool-bound-test',
      endpoint: server.url,
      spoolDir,
      spoolMaxBytes: 4_000,
      heartbeatIntervalMs: 0,
      exportTimeoutMs: 300,
      replayInitialDelayMs: 60_000,
      shutdownTimeoutMs: 300,
    });
    cleanups.push(() => faultline.shutdown());
    for (let round = 0; round < 6; round++) {
      await runSomeSessions(faultline, 2);
      await faultline.flush();
    }
    const stats = faultline.stats();
    expect(stats.spooledBytes).toBeLessThanOrEqual(4_000);
    expect(stats.droppedSpans).toBeGreaterThan(0);
    const left = readdirSync(faultline.spoolDir!).filter((n) => n.endsWith('.otlp'));
    // every round had a failure, so error batches are what survives
    expect(left.every((n) => n.endsWith('-err.otlp'))).toBe(true);
  });
});

describe('exporter result', () => {
  it('reports spooled batches as exported to the BatchSpanProcessor, so memory stays bounded', async () => {
    const dir = tempDir();
    const failing: SpanExporter = {
      export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: new Error('down') }),
      shutdown: async () => {},
    };
    const faultline = faultlineFor('http://127.0.0.1:9', dir, { exporter: failing });
    await runSomeSessions(faultline, 1);
    await faultline.flush();
    expect(faultline.stats().spooledBatches).toBeGreaterThan(0);
    expect(faultline.stats().droppedSpans).toBe(0);
  });
});

describe('a good guest during outages', () => {
  it('honours 429 with Retry-After: no replay before the collector asked, then every span once', async () => {
    const server = await collector(429);
    server.answer(429, { 'Retry-After': '1' });
    const spans = recordEndedSpans();
    const faultline = faultlineFor(server.url, tempDir(), { processor: spans.processor });
    await runSomeSessions(faultline, 2);
    await faultline.flush();
    expect(faultline.stats().pendingBatches).toBeGreaterThan(0);

    // The replay loop backs off from 20 ms to at most 100 ms: without Retry-After it would ask
    // about 25 times in 2.5 s.
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const asked = server.requestTimes.filter((t) => t >= since);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < asked.length; i++) expect(asked[i] - asked[i - 1]).toBeGreaterThanOrEqual(950);

    server.answer(200);
    await until(() => !faultline.stats().collectorUnreachable, 'the spool to drain after Retry-After', 5_000);
    const received = counts(server.received);
    expect(new Set(received.keys())).toEqual(new Set(spans.ended()));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
  });

  it('says once that the collector is unreachable, not once per batch, and once that it is back', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(() => errorLog.mockRestore());
    const server = await collector(503);
    const faultline = init({
      serviceName: 'notice-test',
      endpoint: server.url,
      spoolDir: tempDir(),
      heartbeatIntervalMs: 0,
      exportTimeoutMs: 300,
      replayInitialDelayMs: 20,
      replayMaxDelayMs: 50,
      shutdownTimeoutMs: 300,
      debug: true,
    });
    cleanups.push(() => faultline.shutdown());
    for (let round = 0; round < 5; round++) {
      await runSomeSessions(faultline, 2);
      await faultline.flush();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // several failed replay passes
    const lines = () => errorLog.mock.calls.map((call) => String(call[0]));
    expect(faultline.stats().spooledBatches).toBeGreaterThan(3);
    expect(lines().filter((l) => l.includes('unreachable'))).toHaveLength(1);
    expect(lines().find((l) => l.includes('unreachable'))).toContain(`collector at ${server.url}/v1/traces unreachable`);
    expect(faultline.stats()).toMatchObject({ collectorUnreachable: true, outages: 1 });

    server.answer(200);
    await until(() => !faultline.stats().collectorUnreachable, 'recovery');
    expect(lines().filter((l) => l.includes('reachable again'))).toHaveLength(1);

    server.answer(503);
    await runSomeSessions(faultline, 1);
    await faultline.flush();
    expect(faultline.stats()).toMatchObject({ collectorUnreachable: true, outages: 2 });
    expect(lines().filter((l) => l.includes('unreachable'))).toHaveLength(2);
  });

  it('waits a jittered, growing backoff between replay passes', async () => {
    const guard = { stats: emptyStats(), log: () => {} };
    const spool = new Spool(tempDir(), 'http://127.0.0.1:9/v1/traces', 10_000, guard);
    await spool.write(new Uint8Array(10), 1, true);
    const replayer = new SpoolReplayer({ spool, tracesUrl: 'http://127.0.0.1:9/v1/traces', headers: {}, guard, initialDelayMs: 1_000, maxDelayMs: 4_000 });
    const samples = (n: number) => Array.from({ length: n }, () => replayer.backoffMs());
    const first = samples(200);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...first)).toBeLessThanOrEqual(1_000);
    // Many runtimes losing one collector must not come back in lockstep.
    expect(new Set(first.map(Math.round)).size).toBeGreaterThan(100);
    expect(await replayer.replay()).toBe(false); // nothing listens on port 9
    expect(Math.min(...samples(50))).toBeGreaterThanOrEqual(1_000);
    expect(await replayer.replay()).toBe(false);
    expect(await replayer.replay()).toBe(false);
    const capped = samples(50);
    expect(Math.min(...capped)).toBeGreaterThanOrEqual(2_000);
    expect(Math.max(...capped)).toBeLessThanOrEqual(4_000);
    expect(guard.stats.outages).toBe(1);
  });

  it('binds a spool to its endpoint: batches for a down collector never go to another one', async () => {
    const first = await collector(200);
    const firstPort = Number(new URL(first.url).port);
    await first.close(); // down: its runtime spools
    const other = await collector(200);
    const root = tempDir();

    const spans = recordEndedSpans();
    const toFirst = faultlineFor(first.url, root, { processor: spans.processor });
    await runSomeSessions(toFirst, 2);
    await toFirst.shutdown();
    expect(toFirst.stats().pendingSpans).toBe(spans.ended().length);

    // Same spool directory, other collector: it gets its own spans and nothing of the first's.
    const toOther = faultlineFor(other.url, root);
    const session = toOther.startSession({});
    session.end();
    await toOther.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.received).toHaveLength(2);
    expect(other.received.some((id) => spans.ended().includes(id))).toBe(false);
    expect(readdirSync(root).sort()).toEqual([basename(toFirst.spoolDir!), basename(toOther.spoolDir!)].sort());

    // The first collector comes back: a runtime bound to it delivers what waited.
    const back = await collector(200, firstPort);
    const again = faultlineFor(back.url, root);
    await until(() => back.received.length >= spans.ended().length, 'the first collector to get its spans');
    await again.flush();
    const received = counts(back.received);
    expect(new Set(received.keys())).toEqual(new Set(spans.ended()));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('shutdown: exit without loss', () => {
  it('delivers what is buffered and spooled when the collector comes back within shutdownTimeoutMs', async () => {
    const server = await collector(503);
    const spans = recordEndedSpans();
    const faultline = init({
      serviceName: 'shutdown-test',
      endpoint: server.url,
      spoolDir: tempDir(),
      spanProcessors: [spans.processor],
      heartbeatIntervalMs: 0,
      exportTimeoutMs: 300,
      replayInitialDelayMs: 50,
      replayMaxDelayMs: 200,
      shutdownTimeoutMs: 5_000,
    });
    await runSomeSessions(faultline, 3);
    await faultline.flush();
    await runSomeSessions(faultline, 2); // still buffered when shutdown starts
    setTimeout(() => server.answer(200), 400);
    const started = Date.now();
    const report = await faultline.shutdown();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(report).toEqual({ delivered: true, pendingSpans: 0, pendingBatches: 0, droppedSpans: 0, spoolDir: faultline.spoolDir });
    const received = counts(server.received);
    expect(new Set(received.keys())).toEqual(new Set(spans.ended()));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
  });

  it("waits for an export the processor's timer already started before it looks at the spool", async () => {
    // The live exporter refuses after 300 ms (a collector that is slow to fail); the spool's
    // replay goes to a collector that is up.
    const server = await collector(200);
    const slowRefusal: SpanExporter = {
      export: (_spans, done) => void setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error('socket hang up') }), 300),
      shutdown: async () => {},
    };
    const spans = recordEndedSpans();
    const faultline = init({
      serviceName: 'shutdown-race-test',
      endpoint: server.url,
      exporter: slowRefusal,
      spoolDir: tempDir(),
      spanProcessors: [spans.processor],
      heartbeatIntervalMs: 0,
      scheduledDelayMillis: 10,
      replayInitialDelayMs: 50,
      shutdownTimeoutMs: 5_000,
    });
    await runSomeSessions(faultline, 2);
    await new Promise((resolve) => setTimeout(resolve, 60)); // the processor's timer has started the export
    const report = await faultline.shutdown();
    expect(report).toMatchObject({ delivered: true, pendingSpans: 0 });
    expect(new Set(server.received)).toEqual(new Set(spans.ended()));
  });

  it('gives up at its deadline, even on an export that never answers, and says what is left and where', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(() => errorLog.mockRestore());
    const hanging: SpanExporter = { export: () => {}, shutdown: async () => {} };
    const spans = recordEndedSpans();
    const root = tempDir();
    const faultline = faultlineFor('http://127.0.0.1:9', root, { exporter: hanging, processor: spans.processor });
    await runSomeSessions(faultline, 2);
    const started = Date.now();
    const report = await faultline.shutdown();
    expect(Date.now() - started).toBeLessThan(2_000); // shutdownTimeoutMs is 300
    expect(report.delivered).toBe(false);
    expect(report.pendingSpans).toBe(spans.ended().length);
    expect(readdirSync(report.spoolDir!).filter((n) => n.endsWith('.otlp')).length).toBe(report.pendingBatches);
    expect(errorLog).toHaveBeenCalledTimes(1);
    const warning = String(errorLog.mock.calls[0][0]);
    expect(warning).toMatch(new RegExp(`${report.pendingSpans} spans in ${report.pendingBatches} batch(es)? were not delivered to http://127.0.0.1:9/v1/traces`));
    expect(warning).toContain(`wait in ${report.spoolDir}`);
    expect(warning).toContain(`npx faultline-sdk replay --spool-dir ${root} --endpoint http://127.0.0.1:9`);
    expect(faultline.stats()).toMatchObject({ pendingSpans: report.pendingSpans, pendingBatches: report.pendingBatches });
  });
});
