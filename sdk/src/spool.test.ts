import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { init } from './faultline.ts';
import type { Faultline } from './faultline.ts';
import { emptyStats } from './guard.ts';
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
