/**
 * init(): wires the tracer provider, the spooling OTLP exporter and the session runtime.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { trace } from '@opentelemetry/api';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR } from '@faultline/schema';
import { resolveConfig } from './config.ts';
import type { FaultlineOptions, ResolvedConfig } from './config.ts';
import { unknownCode } from './catalog.ts';
import { clientErrorFrom, describeError } from './errors.ts';
import type { ClientError } from './errors.ts';
import { createDebugLog, emptyStats, internalError } from './guard.ts';
import type { FaultlineStats, Guard } from './guard.ts';
import { Session } from './session.ts';
import type { ActiveSpan, RecordedError, SessionOptions, SessionRuntime } from './session.ts';
import { Spool } from './spool.ts';
import { SpoolingExporter } from './spooling-exporter.ts';

const SDK_NAME = '@faultline/sdk';
const SDK_VERSION = '0.1.0';

interface Flushable {
  forceFlush?: () => Promise<void>;
}

/** What `shutdown()` could not deliver; also in `stats()`. */
export interface ShutdownReport {
  /** Everything recorded reached the collector (or there is no spool to hold anything). */
  delivered: boolean;
  /** Spans and batches left in the spool, sent by the next run or `faultline-sdk replay`. */
  pendingSpans: number;
  pendingBatches: number;
  /** Spans given up on since init (spool full or unusable, batch rejected as undecodable). */
  droppedSpans: number;
  /** The directory they wait in (bound to the endpoint), or null without a spool. */
  spoolDir: string | null;
}

const EXIT_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    timer.unref?.();
  });

/** A shell-safe rendering of one argument for the hint in the warning line. */
function shellArg(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export class Faultline {
  readonly config: ResolvedConfig;
  private readonly guard: Guard;
  private readonly runtime: SessionRuntime;
  /** Our own provider; null when we joined the runtime's provider. */
  private readonly ownProvider: BasicTracerProvider | null;
  private readonly joinedProvider: TracerProvider | null;
  private readonly exporter: SpoolingExporter | null;
  private shutdownPromise: Promise<ShutdownReport> | null = null;
  private exitHooks: { event: 'beforeExit' | NodeJS.Signals; listener: () => void }[] = [];

  constructor(options: FaultlineOptions) {
    this.config = resolveConfig(options);
    this.guard = { stats: emptyStats(), log: createDebugLog(this.config.debug) };
    for (const warning of this.config.warnings) this.guard.log(warning);

    let tracer: Tracer;
    this.ownProvider = null;
    this.joinedProvider = null;
    this.exporter = null;
    try {
      if (options?.tracerProvider) {
        this.joinedProvider = options.tracerProvider;
        tracer = options.tracerProvider.getTracer(SDK_NAME, SDK_VERSION);
      } else {
        this.exporter = this.createExporter(options?.exporter);
        this.ownProvider = new BasicTracerProvider({
          resource: defaultResource().merge(resourceFromAttributes({ [ATTR.serviceName]: this.config.serviceName })),
          spanProcessors: [
            new BatchSpanProcessor(this.exporter, {
              scheduledDelayMillis: this.config.scheduledDelayMillis,
              exportTimeoutMillis: this.config.exportTimeoutMs + 5_000,
            }),
            ...(options.spanProcessors ?? []),
          ],
        });
        tracer = this.ownProvider.getTracer(SDK_NAME, SDK_VERSION);
      }
    } catch (error) {
      internalError(this.guard, 'init', error);
      // Without a pipeline the API's no-op tracer keeps every call working.
      tracer = trace.getTracerProvider().getTracer(SDK_NAME, SDK_VERSION);
    }
    this.runtime = {
      tracer,
      guard: this.guard,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      activeSpan: new AsyncLocalStorage<ActiveSpan>(),
      recorded: new WeakMap<object, RecordedError>(),
      heartbeating: new Set<Session>(),
      // Our exporter scrubs at export time, unless spans also go where it cannot see them first.
      scrubInline: !this.exporter || (options?.spanProcessors?.length ?? 0) > 0,
      contextManager: { active: false, checkAt: 0 },
    };
    if (this.config.shutdownOnExit) this.installExitHooks();
  }

  private createExporter(custom: SpanExporter | undefined): SpoolingExporter {
    const inner =
      custom ??
      new OTLPTraceExporter({
        url: this.config.tracesUrl,
        headers: this.config.headers,
        timeoutMillis: this.config.exportTimeoutMs,
      });
    const spool = new Spool(this.config.spoolDir, this.config.tracesUrl, this.config.spoolMaxBytes, this.guard);
    return new SpoolingExporter({
      inner,
      spool,
      tracesUrl: this.config.tracesUrl,
      headers: this.config.headers,
      guard: this.guard,
      replayInitialDelayMs: this.config.replayInitialDelayMs,
      replayMaxDelayMs: this.config.replayMaxDelayMs,
      replayTimeoutMs: this.config.exportTimeoutMs,
      scrubAtExport: true,
    });
  }

  /** Where batches wait while the collector is unreachable (bound to the endpoint); null without a spool. */
  get spoolDir(): string | null {
    return this.exporter?.spoolDir ?? null;
  }

  /** Starts a session; its first status (default `starting`) is emitted right away. */
  startSession(options?: SessionOptions): Session {
    try {
      return new Session(this.runtime, options);
    } catch (error) {
      // Session guards its own spans; this is for options that cannot even be read.
      internalError(this.guard, 'startSession', error);
      return new Session(this.runtime, {});
    }
  }

  /**
   * What to show a client for `error`: the catalog's title and words (with the session's provider
   * and model), the code, whether to retry, and ids for support. Never a stack trace.
   */
  toClientError(error: unknown, session?: Session): ClientError {
    if (session) return session.toClientError(error);
    try {
      if (error !== null && typeof error === 'object') {
        const known = this.runtime.recorded.get(error);
        if (known) return known.payload;
      }
      return clientErrorFrom(describeError(error), { sessionId: null, traceId: null });
    } catch (internal) {
      internalError(this.guard, 'toClientError', internal);
      return {
        code: unknownCode(),
        title: 'Something went wrong',
        message: 'Something went wrong while the agent was working.',
        retryable: 'once',
        sessionId: null,
        traceId: null,
      };
    }
  }

  /** Exports everything recorded so far and tries once to send what waits in the spool. */
  async flush(): Promise<void> {
    try {
      const provider = (this.ownProvider ?? this.joinedProvider) as Flushable | null;
      await provider?.forceFlush?.();
      await this.exporter?.settle();
      await this.exporter?.replay();
    } catch (error) {
      internalError(this.guard, 'flush', error);
    }
  }

  /**
   * Delivers what is buffered and spooled for at most `shutdownTimeoutMs`, then stops heartbeats
   * and timers and closes the pipeline it owns. What could not be delivered stays in the spool,
   * is reported (and said in one warning line on stderr, naming the spool directory) and goes out
   * with the next run or `faultline-sdk replay`. Idempotent; never rejects.
   */
  shutdown(): Promise<ShutdownReport> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  private async runShutdown(): Promise<ShutdownReport> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    this.removeExitHooks();
    for (const session of [...this.runtime.heartbeating]) session.stopHeartbeat();
    const exporter = this.exporter;
    const provider = this.ownProvider;
    if (!exporter || !provider) {
      try {
        await Promise.race([(this.joinedProvider as Flushable | null)?.forceFlush?.(), sleep(deadline - Date.now())]);
      } catch (error) {
        internalError(this.guard, 'shutdown', error);
      }
      return { delivered: true, pendingSpans: 0, pendingBatches: 0, droppedSpans: 0, spoolDir: null };
    }
    try {
      exporter.beginShutdown(deadline);
      // Exports still on the wire at the deadline are spooled rather than lost with the process.
      const cutoff = setTimeout(() => exporter.spoolInFlight(), Math.max(0, deadline - Date.now()));
      try {
        await provider.forceFlush();
        await exporter.drain(deadline);
      } finally {
        clearTimeout(cutoff);
      }
      exporter.spoolInFlight();
      await provider.shutdown();
    } catch (error) {
      internalError(this.guard, 'shutdown', error);
    }
    const stats = this.guard.stats;
    const report: ShutdownReport = {
      delivered: stats.pendingBatches === 0 && stats.droppedSpans === 0,
      pendingSpans: stats.pendingSpans,
      pendingBatches: stats.pendingBatches,
      droppedSpans: stats.droppedSpans,
      spoolDir: exporter.spoolDir,
    };
    if (!report.delivered) this.warnUndelivered(report, exporter.failureReason);
    return report;
  }

  /** The one line a runtime prints when it exits with telemetry left behind or lost. */
  private warnUndelivered(report: ShutdownReport, reason: string): void {
    const { tracesUrl, spoolDir, endpoint, shutdownTimeoutMs } = this.config;
    const why = reason ? ` (${reason})` : '';
    const dropped = report.droppedSpans > 0 ? `; ${report.droppedSpans} spans were dropped (spool full or unusable)` : '';
    const line =
      report.pendingBatches > 0
        ? `[faultline] ${report.pendingSpans} spans in ${report.pendingBatches} ${report.pendingBatches === 1 ? 'batch' : 'batches'} were not delivered to ${tracesUrl}${why} ` +
          `within ${shutdownTimeoutMs} ms; they wait in ${report.spoolDir} and go out with the next run, ` +
          `or now with: npx faultline-sdk replay --spool-dir ${shellArg(spoolDir)} --endpoint ${shellArg(endpoint)}${dropped}`
        : `[faultline] ${report.droppedSpans} spans were dropped and never reached ${tracesUrl}${why} (spool ${report.spoolDir} full or unusable)`;
    try {
      console.error(line);
    } catch {
      // a broken stderr must not break the runtime's exit
    }
  }

  private installExitHooks(): void {
    const onBeforeExit = () => void this.shutdown();
    process.once('beforeExit', onBeforeExit);
    this.exitHooks.push({ event: 'beforeExit', listener: onBeforeExit });
    for (const signal of EXIT_SIGNALS) {
      const listener = () => {
        // Alone, Faultline's listener replaced Node's default (exit): do that once shutdown is over.
        const alone = process.listenerCount(signal) === 1;
        void this.shutdown().then(() => {
          if (alone && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
      };
      process.on(signal, listener);
      this.exitHooks.push({ event: signal, listener });
    }
  }

  private removeExitHooks(): void {
    for (const { event, listener } of this.exitHooks) process.removeListener(event, listener);
    this.exitHooks = [];
  }

  /** Counters of what the SDK did and swallowed. */
  stats(): FaultlineStats {
    return { ...this.guard.stats };
  }
}

/** Sets up Faultline for this process. Never throws; problems show up in `stats()` and the debug log. */
export function init(options: FaultlineOptions): Faultline {
  return new Faultline(options);
}
