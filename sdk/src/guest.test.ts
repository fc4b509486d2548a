/** The SDK is a guest in the runtime's process: its own failures never reach the runtime. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { init } from './faultline.ts';
import type { Faultline } from './faultline.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-guest-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const throwingExporter: SpanExporter = {
  export: () => {
    throw new Error('exporter exploded');
  },
  shutdown: async () => {
    throw new Error('exporter shutdown exploded');
  },
};

async function busySession(faultline: Faultline): Promise<void> {
  const session = faultline.startSession({ agent: 'coder' });
  session.heartbeat({ phase: 'start' });
  await session.turn('reply', () => session.tool('bash', () => 'ok'));
  session.fail(new Error('Your credit balance is too low'));
  session.end('stopped');
}

describe('a guest in the runtime process', () => {
  it('an exporter that throws: nothing reaches the runtime, the batch is spooled, the failure is counted', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    const faultline = init({
      serviceName: 'guest',
      exporter: throwingExporter,
      endpoint: 'http://127.0.0.1:9', // nothing listens: shutdown's replay attempts are refused
      spoolDir: tempDir(),
      replayInitialDelayMs: 60_000,
      shutdownTimeoutMs: 200,
    });
    await expect(busySession(faultline)).resolves.toBeUndefined();
    await expect(faultline.flush()).resolves.toBeUndefined();
    const report = await faultline.shutdown();
    expect(report).toMatchObject({ delivered: false, spoolDir: faultline.spoolDir });
    expect(report.pendingSpans).toBeGreaterThan(0);
    // One line on stderr says what is left and where, even without debug.
    expect(errorLog).toHaveBeenCalledTimes(1);
    expect(String(errorLog.mock.calls[0][0])).toContain(`wait in ${faultline.spoolDir}`);
    const stats = faultline.stats();
    expect(stats.exportFailures).toBeGreaterThan(0);
    expect(stats.spooledBatches).toBeGreaterThan(0);
    expect(stats.droppedSpans).toBe(0);
    expect(stats.internalErrors).toBeGreaterThan(0); // the exporter's shutdown failure
  });

  it('a spool directory that cannot be created: spans are counted as dropped, nothing is thrown or printed', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const faultline = init({ serviceName: 'guest', exporter: throwingExporter, endpoint: 'http://127.0.0.1:9', spoolDir: join(file, 'spool'), shutdownTimeoutMs: 200 });
    cleanups.push(() => faultline.shutdown());

    await expect(busySession(faultline)).resolves.toBeUndefined();
    await faultline.flush();
    const stats = faultline.stats();
    expect(stats.internalErrors).toBeGreaterThan(0);
    expect(stats.droppedSpans).toBeGreaterThan(0);
    expect(stats.spooledBatches).toBe(0);
    expect(errorLog).not.toHaveBeenCalled();
  });

  it('logs internal failures only when debugging', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const faultline = init({ serviceName: 'guest', exporter: throwingExporter, endpoint: 'http://127.0.0.1:9', spoolDir: join(file, 'spool'), shutdownTimeoutMs: 200, debug: true });
    cleanups.push(() => faultline.shutdown());
    await busySession(faultline);
    await faultline.flush();
    expect(errorLog).toHaveBeenCalled();
    expect(String(errorLog.mock.calls[0][0])).toContain('[faultline]');
  });

  it('a tracer that throws on every span: turns and tools still run and return, errors still rethrow', async () => {
    const brokenTracer = {
      startSpan: () => {
        throw new Error('tracer broken');
      },
      startActiveSpan: () => {
        throw new Error('tracer broken');
      },
    } as unknown as Tracer;
    const provider: TracerProvider = { getTracer: () => brokenTracer };
    const faultline = init({ serviceName: 'guest', tracerProvider: provider, heartbeatIntervalMs: 0 });

    const session = faultline.startSession({ id: 'still-works' });
    expect(session.id).toBe('still-works');
    expect(() => session.status('running')).not.toThrow();
    expect(() => session.heartbeat({ n: 1 })).not.toThrow();
    await expect(session.turn('reply', () => session.tool('bash', () => 42))).resolves.toBe(42);
    const own = new Error('runtime error');
    await expect(session.turn('reply', () => Promise.reject(own))).rejects.toBe(own);
    const payload = session.fail(new Error('boom'));
    expect(payload.sessionId).toBe('still-works');
    expect(typeof payload.message).toBe('string');
    expect(() => session.end()).not.toThrow();
    await expect(faultline.shutdown()).resolves.toMatchObject({ delivered: true, spoolDir: null });
    expect(faultline.stats().internalErrors).toBeGreaterThan(0);
  });

  it('bad options and odd thrown values do not throw', async () => {
    const faultline = init({ serviceName: '', endpoint: 'not a url', heartbeatIntervalMs: -5, spoolDir: tempDir(), exportTimeoutMs: 200, shutdownTimeoutMs: 200 } as never);
    cleanups.push(() => faultline.shutdown());
    const session = faultline.startSession(undefined);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('getter trap');
        },
      },
    );
    for (const value of [null, undefined, 42, 'plain string', hostile, Object.create(null)]) {
      expect(() => session.fail(value)).not.toThrow();
      expect(() => faultline.toClientError(value)).not.toThrow();
    }
    expect(faultline.config.endpoint).toBe('http://127.0.0.1:4318');
  });
});
