/**
 * SDK cost (DESIGN §8), in process, with a no-op exporter behind the same BatchSpanProcessor on
 * both sides, so only the work on the runtime's thread differs:
 * - bare: `tracer.startSpan(name, { attributes }, parent).end()` on a plain BasicTracerProvider,
 *   with the attributes the SDK's span carries (captured from a real SDK span first) and, like
 *   the SDK's spans, a parent (the SDK puts every span of a session in one trace);
 * - turn: `session.turn(name, fn)` with autoStatus off (one `invoke_agent` span, the wrapper's
 *   own cost); turn+status: the default autoStatus turn, which also emits its running/ready
 *   status spans, compared with three bare spans;
 * - error: `session.fail(error)` outside a turn (classification, the status change to `error`
 *   and the `faultline.error` span with its exception event) vs what plain OpenTelemetry does to
 *   record an error: the same span, `recordException` and an ERROR status. Every operation gets
 *   a fresh error (fail() records an error object once; a stack is formatted on first read).
 * Operations run in chunks of 200 with a macrotask between chunks so the BatchSpanProcessor
 * exports (and never drops) as it would in a real runtime. Every chunk runs each variant once,
 * back to back; a figure is the median over chunks (CPU time), a ratio the median of
 * chunk-by-chunk ratios.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { init } from '../../sdk/src/index.ts';
import { Report, atMost } from '../lib/report.ts';
import { median, round } from '../lib/stats.ts';

const CHUNK = 200;

const noopExporter = (): SpanExporter => ({
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
});

const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * CPU ns per operation of one chunk of `op`; sync and async ops alike. CPU time, not wall time:
 * the work is CPU-bound (no-op exporters), and on a machine shared with other engineers' test
 * runs a chunk is often descheduled, which wall time would charge to whichever variant ran.
 */
async function timeChunk(op: () => unknown): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CHUNK; i++) {
    const r = op();
    if (r instanceof Promise) await r;
  }
  const used = process.cpuUsage(t0);
  await tick(); // the BatchSpanProcessor exports between chunks, as in a real runtime
  return ((used.user + used.system) * 1000) / CHUNK;
}

/**
 * Per-chunk ns/op of every variant. Each chunk runs every variant once, back to back, in an order
 * that rotates, so two variants compared are always measured within a few milliseconds of each
 * other: on a shared machine the load changes between rounds, not within a chunk pair.
 */
async function measure(variants: Record<string, () => unknown>, chunks: number, before: (name: string) => void): Promise<Record<string, number[]>> {
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let c = 0; c < chunks; c++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(c + k) % names.length];
      before(name);
      samples[name][c] = await timeChunk(variants[name]);
    }
  }
  return samples;
}

/** The median of chunk-by-chunk ratios: robust to a chunk pair that another process interrupted. */
const pairedRatio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));

class ServiceError extends Error {
  status = 402;
  type = 'billing_error';
}

export async function runSdk(report: Report, o: { quick: boolean }): Promise<void> {
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-spool-'));
  const sessionOptions = {
    agent: 'planner',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    attributes: { 'tenant.id': 'tenant-7', 'deployment.environment': 'prod' },
  };
  const makeError = (i: number) => new ServiceError(`Your credit balance is too low to access the Anthropic API (request ${i}).`);
  // tsx turns on source maps, which makes every first read of error.stack ~5× dearer for both
  // sides; a runtime built to JavaScript formats stacks without them, so measure that.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  try {
    // 1. Capture what the SDK's spans carry, so the bare spans get exactly the same attributes.
    const captured = new InMemorySpanExporter();
    const probe = init({ serviceName: 'bench', exporter: noopExporter(), heartbeatIntervalMs: 0, spoolDir, spanProcessors: [new SimpleSpanProcessor(captured)] });
    const ps = probe.startSession({ ...sessionOptions, autoStatus: false });
    await ps.turn('plan', () => 1);
    ps.fail(makeError(0));
    // Read before shutdown: shutting the exporter down empties it.
    const spans = [...captured.getFinishedSpans()];
    await probe.shutdown();
    const find = (p: (s: ReadableSpan) => boolean) => spans.find(p)!;
    const turnSpan = find((s) => s.name.startsWith('invoke_agent'));
    const statusSpan = find((s) => s.name === 'faultline.session.status');
    const errorSpan = find((s) => s.name === 'faultline.error');
    const turnAttrs: Attributes = { ...turnSpan.attributes };
    const statusAttrs: Attributes = { ...statusSpan.attributes };
    const errorAttrs: Attributes = { ...errorSpan.attributes };

    // 2. The two pipelines: plain OTel and Faultline, both BatchSpanProcessor → no-op.
    const resource = resourceFromAttributes({ 'service.name': 'bench' });
    const bareProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(noopExporter())] });
    const tracer = bareProvider.getTracer('bench');
    // The SDK's spans are children of the session's first status span (one trace per session);
    // the bare spans get a parent too, so both sides make the same span.
    const parent = trace.setSpan(ROOT_CONTEXT, tracer.startSpan(statusSpan.name, { attributes: statusAttrs }));
    const sdk = init({ serviceName: 'bench', exporter: noopExporter(), heartbeatIntervalMs: 0, spoolDir });
    const manual = sdk.startSession({ ...sessionOptions, autoStatus: false, state: 'running' });
    const auto = sdk.startSession(sessionOptions);
    const failing = sdk.startSession({ ...sessionOptions, autoStatus: false, state: 'running' });
    // Fresh errors for every operation, made before timing: fail() records an error object once,
    // and a stack trace is formatted on first read, for plain OpenTelemetry and for fail() alike.
    let errors: Error[] = [];
    let errorIndex = 0;
    const freshErrors = (n: number) => {
      errors = Array.from({ length: n }, (_, i) => makeError(i));
      errorIndex = 0;
    };
    const usesErrors = new Set(['bareErrorRecorded', 'error']);

    const variants: Record<string, () => unknown> = {
      bareTurn: () => tracer.startSpan(turnSpan.name, { attributes: turnAttrs }, parent).end(),
      bareTurnWithStatus: () => {
        tracer.startSpan(statusSpan.name, { attributes: statusAttrs }, parent).end();
        tracer.startSpan(turnSpan.name, { attributes: turnAttrs }, parent).end();
        tracer.startSpan(statusSpan.name, { attributes: statusAttrs }, parent).end();
      },
      bareError: () => tracer.startSpan(errorSpan.name, { attributes: errorAttrs }, parent).end(),
      // How plain OpenTelemetry records an error: the same span plus recordException and an ERROR status.
      // The same bare span, returning a resolved promise the caller awaits, as turn() does: what
      // an async API costs before it does anything.
      bareTurnAwaited: () => {
        tracer.startSpan(turnSpan.name, { attributes: turnAttrs }, parent).end();
        return Promise.resolve(1);
      },
      // What plain OpenTelemetry code around an async turn looks like: an active span, awaited, ended.
      bareTurnAsync: () =>
        tracer.startActiveSpan(turnSpan.name, { attributes: turnAttrs }, parent, async (span) => {
          try {
            return 1;
          } finally {
            span.end();
          }
        }),
      bareErrorRecorded: () => {
        const error = errors[errorIndex++];
        const span = tracer.startSpan(errorSpan.name, { attributes: errorAttrs }, parent);
        span.recordException(error);
        span.setStatus({ code: 2, message: error.message });
        span.end();
      },
      turn: () => manual.turn('plan', () => 1),
      turnWithStatus: () => auto.turn('plan', () => 1),
      error: () => failing.fail(errors[errorIndex++]),
    };
    const chunks = o.quick ? 40 : 250;
    const prepare = (name: string) => {
      if (usesErrors.has(name)) freshErrors(CHUNK);
    };
    await measure(variants, 10, prepare); // warm-up (JIT)
    const samples = await measure(variants, chunks, prepare);
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const r = (a: string, b: string) => round(pairedRatio(samples[a], samples[b]));
    report.add('sdk.bareSpanNs', 'bare OTel span (turn attributes)', Math.round(m.bareTurn), 'ns/op');
    report.add('sdk.turnNs', 'SDK turn (autoStatus off: one span)', Math.round(m.turn), 'ns/op');
    report.add('sdk.turnRatio', 'SDK turn / bare span', r('turn', 'bareTurn'), '×', atMost(r('turn', 'bareTurn'), 1.2));
    report.add('sdk.bareTurnAwaitedNs', 'bare OTel span + an awaited resolved promise', Math.round(m.bareTurnAwaited), 'ns/op');
    report.add('sdk.turnToAwaitedSpanRatio', 'SDK turn / bare span + awaited promise', r('turn', 'bareTurnAwaited'), '×');
    report.add('sdk.bareTurnAsyncNs', 'bare OTel active span around an async callback', Math.round(m.bareTurnAsync), 'ns/op');
    report.add('sdk.turnToAsyncSpanRatio', 'SDK turn / bare OTel active span around an async callback', r('turn', 'bareTurnAsync'), '×');
    report.add('sdk.turnWithStatusNs', 'SDK turn with auto status (3 spans)', Math.round(m.turnWithStatus), 'ns/op');
    report.add('sdk.turnWithStatusRatio', 'SDK turn with status / 3 bare spans', r('turnWithStatus', 'bareTurnWithStatus'), '×');
    report.add('sdk.bareErrorSpanNs', 'bare OTel span (error attributes)', Math.round(m.bareError), 'ns/op');
    report.add('sdk.errorNs', 'SDK fail() (classify, status + error span)', Math.round(m.error), 'ns/op');
    report.add('sdk.errorRatio', 'SDK fail() / bare span (no exception recorded)', r('error', 'bareError'), '×');
    report.add('sdk.bareErrorRecordedNs', 'bare OTel error (span + recordException + ERROR status)', Math.round(m.bareErrorRecorded), 'ns/op');
    report.add('sdk.errorToRecordedRatio', 'SDK fail() / bare OTel error recording', r('error', 'bareErrorRecorded'), '×', atMost(r('error', 'bareErrorRecorded'), 2));
    await sdk.shutdown();
    await bareProvider.shutdown();

    // 3. Memory: heap held by 10k finished SDK spans waiting for export (turns with their attributes).
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held = new InMemorySpanExporter();
    const memSdk = init({ serviceName: 'bench', exporter: held, heartbeatIntervalMs: 0, spoolDir });
    const memSession = memSdk.startSession({ ...sessionOptions, autoStatus: false, state: 'running' });
    await memSdk.flush();
    held.reset();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let done = 0; done < 10_000; done += CHUNK) {
      for (let i = 0; i < CHUNK; i++) await memSession.turn('plan', (t) => t.output(`answer ${done + i}`));
      await tick();
    }
    await memSdk.flush();
    gc();
    const after = process.memoryUsage().heapUsed;
    const count = held.getFinishedSpans().length;
    const perTenK = ((after - before) / count) * 10_000;
    report.add('sdk.memoryPer10kSpansMiB', 'heap per 10k buffered SDK spans', round(perTenK / 2 ** 20, 1), 'MiB');
    report.note(
      `SDK buffering is bounded by the BatchSpanProcessor queue (2048 spans by default, ≈ ${round((perTenK / 10_000) * 2048 / 2 ** 20, 1)} MiB); ` +
        'during an outage batches go to the disk spool, not the heap.',
    );
    await memSdk.shutdown();
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
}
