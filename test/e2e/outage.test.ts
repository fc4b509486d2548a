/**
 * DESIGN §9: the SDK loses no telemetry when the collector is down. A runtime keeps working while
 * the collector is stopped mid-stream and restarted on the same port and database; afterwards
 * every span the runtime produced is stored exactly once by (trace id, span id), and the derived
 * counts (errors per session) are not inflated by replays. Also across a runtime restart that
 * reuses the spool directory. The runtime's own record of its spans comes from an extra span
 * processor on the SDK's provider.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { init, type Faultline } from '@faultline/sdk';
import { STORAGES } from '../../collector/src/testing.ts';
import { RestartableCollector, sleep, tempDir, waitFor } from './support.ts';

/** Remembers (trace id, span id) of every span the SDK ended, whatever happens to the export. */
class SpanIdRecorder implements SpanProcessor {
  readonly ids: string[] = [];
  onStart(_span: Span, _context: Context): void {}
  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    this.ids.push(`${traceId}:${spanId}`);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** What an Anthropic 400 "credit balance is too low" looks like to the runtime. */
function billingError(): Error {
  return Object.assign(new Error('400 Your credit balance is too low to access the Anthropic API.'), {
    name: 'BadRequestError',
    status: 400,
    error: { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' } },
  });
}

interface Workload {
  faultline: Faultline;
  recorder: SpanIdRecorder;
  /** Session id → errors the runtime recorded in it. */
  failures: Map<string, number>;
  iterations: number;
  /** When each iteration began (performance.now()) and how long it took, its 5 ms of work aside. */
  timings: { began: number; ms: number }[];
  stop(): Promise<void>;
}

/** A runtime that runs sessions back to back: every third turn hits a billing error. */
function startWorkload(service: string, endpoint: string, spoolDir: string): Workload {
  const recorder = new SpanIdRecorder();
  const faultline = init({
    serviceName: service,
    endpoint,
    spoolDir,
    heartbeatIntervalMs: 50,
    scheduledDelayMillis: 50,
    exportTimeoutMs: 1000,
    replayInitialDelayMs: 100,
    replayMaxDelayMs: 400,
    spanProcessors: [recorder],
  });
  let stopped = false;
  const work: Workload = {
    faultline,
    recorder,
    failures: new Map(),
    iterations: 0,
    timings: [],
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const began = performance.now();
      const session = faultline.startSession({ agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
      session.status('ready');
      work.failures.set(session.id, 0);
      try {
        await session.turn('reply', async (turn) => {
          const files = await session.tool('list_files', async () => {
            await sleep(5);
            return ['a.ts', 'b.ts'];
          });
          if (i % 3 === 0) throw billingError();
          turn.output(`${files.length} files`);
        });
        session.end('completed');
      } catch (error) {
        if (error instanceof Error && error.name !== 'BadRequestError') throw error; // the SDK must never throw into us
        work.failures.set(session.id, 1);
        session.end('stopped');
      }
      work.iterations++;
      work.timings.push({ began, ms: performance.now() - began - 5 });
      await sleep(10);
    }
  })();
  return work;
}

/** Flush until the spool is empty (the replay loop has backoff; flush tries once more each time). */
async function drain(faultline: Faultline): Promise<void> {
  await waitFor(
    'the spool to drain',
    async () => {
      await faultline.flush();
      return faultline.stats().pendingBatches === 0 ? true : undefined;
    },
    20_000,
    100,
  );
}

describe.each(STORAGES)('collector outage on $name', (storage) => {
  let collector: RestartableCollector;
  const tmp = tempDir('outage');

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage);
  });
  afterAll(async () => {
    await collector?.close();
    tmp.remove();
  });

  /** Stored spans of `service` equal `produced`, each exactly once; errors are counted once. */
  async function expectExactlyOnce(service: string, produced: string[], failures: Map<string, number>) {
    const unique = new Set(produced);
    expect(unique.size, 'the runtime produced each span id once').toBe(produced.length);
    const stored = await waitFor(
      `${unique.size} spans of ${service}`,
      async () => {
        const s = await collector.storedSpans(service);
        return s.size >= unique.size ? s : undefined;
      },
      10_000,
      100,
    );
    const missing = [...unique].filter((id) => !stored.has(id));
    const extra = [...stored.keys()].filter((id) => !unique.has(id));
    const duplicated = [...stored].filter(([, n]) => n !== 1);
    expect({ missing: missing.length, extra: extra.length, duplicated: duplicated.length }).toEqual({ missing: 0, extra: 0, duplicated: 0 });

    const errorRows = await collector.store.query<{ n: number | string }>('select count(*) as n from errors where service = $1', [service]);
    const expectedErrors = [...failures.values()].reduce((a, b) => a + b, 0);
    expect(Number(errorRows[0].n)).toBe(expectedErrors);
    const counts = await collector.store.query<{ id: string; error_count: number }>(
      'select id, error_count from sessions where service = $1',
      [service],
    );
    expect(new Map(counts.map((r) => [r.id, Number(r.error_count)]))).toEqual(failures);
    return { spans: unique.size, errors: expectedErrors, sessions: failures.size };
  }

  it('stopped mid-stream and restarted on the same port: every span arrives exactly once', async () => {
    const service = 'outage-runtime';
    const work = startWorkload(service, collector.url, `${tmp.path}/spool-a`);
    await sleep(800);
    const beforeOutage = work.iterations;
    await collector.stop();
    const downFrom = performance.now();
    await sleep(1500);
    const duringOutage = work.iterations - beforeOutage;
    const spooledWhileDown = work.faultline.stats().spooledBatches;
    const downUntil = performance.now();
    await collector.restart();
    await sleep(800);
    await work.stop();
    await drain(work.faultline);
    const stats = work.faultline.stats();
    await work.faultline.shutdown();

    // The runtime kept working while the collector was down, and no call waited on the network
    // (an iteration that did would take at least the 1 s export timeout). Only the outage counts:
    // an in-process PGlite collector blocks this event loop while it writes.
    expect(duringOutage).toBeGreaterThan(10);
    const slowestWhileDown = Math.max(...work.timings.filter((t) => t.began >= downFrom && t.began + t.ms <= downUntil).map((t) => t.ms));
    expect(slowestWhileDown).toBeLessThan(500);
    expect(spooledWhileDown).toBeGreaterThan(0);
    expect(stats).toMatchObject({ droppedSpans: 0, internalErrors: 0, pendingBatches: 0 });
    expect(stats.replayedBatches).toBeGreaterThan(0);

    const totals = await expectExactlyOnce(service, work.recorder.ids, work.failures);
    console.log(
      `[${storage.name}] outage: ${totals.spans} spans / ${totals.sessions} sessions / ${totals.errors} errors produced and stored once; ` +
        `${duringOutage} sessions ran during the 1.5 s outage (slowest ${slowestWhileDown.toFixed(1)} ms); ${stats.spooledBatches} batches spooled, ${stats.replayedBatches} replayed`,
    );
  });

  it('a runtime restarted on the same spool dir sends what the previous process spooled', async () => {
    const service = 'restarted-runtime';
    const spoolDir = `${tmp.path}/spool-b`;
    const first = startWorkload(service, collector.url, spoolDir);
    await sleep(400);
    await collector.stop();
    await sleep(800);
    await first.stop();
    // The process goes away while the collector is still down: its last spans stay on disk.
    await first.faultline.shutdown();
    const left = first.faultline.stats();
    expect(left.pendingBatches).toBeGreaterThan(0);
    expect(left.droppedSpans).toBe(0);

    await collector.restart();
    const second = startWorkload(service, collector.url, spoolDir);
    await sleep(400);
    await second.stop();
    await drain(second.faultline);
    const stats = second.faultline.stats();
    await second.faultline.shutdown();
    expect(stats.replayedBatches).toBeGreaterThanOrEqual(left.pendingBatches);
    expect(stats.droppedSpans).toBe(0);

    const failures = new Map([...first.failures, ...second.failures]);
    const totals = await expectExactlyOnce(service, [...first.recorder.ids, ...second.recorder.ids], failures);
    console.log(
      `[${storage.name}] runtime restart: ${first.recorder.ids.length} spans from the first process (${left.pendingBatches} batches left in its spool) ` +
        `+ ${second.recorder.ids.length} from the second = ${totals.spans} stored once`,
    );
  });
});
