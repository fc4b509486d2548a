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

export class Faultline {
  readonly config: ResolvedConfig;
  private readonly guard: Guard;
  private readonly runtime: SessionRuntime;
  /** Our own provider; null when we joined the runtime's provider. */
  private readonly ownProvider: BasicTracerProvider | null;
  private readonly joinedProvider: TracerProvider | null;
  private readonly exporter: SpoolingExporter | null;
  private shutdownPromise: Promise<void> | null = null;

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
    };
  }

  private createExporter(custom: SpanExporter | undefined): SpoolingExporter {
    const inner =
      custom ??
      new OTLPTraceExporter({
        url: this.config.tracesUrl,
        headers: this.config.headers,
        timeoutMillis: this.config.exportTimeoutMs,
      });
    let spool: Spool | null = new Spool(this.config.spoolDir, this.config.spoolMaxBytes, this.guard);
    if (!spool.usable) spool = null;
    return new SpoolingExporter({
      inner,
      spool,
      tracesUrl: this.config.tracesUrl,
      headers: this.config.headers,
      guard: this.guard,
      replayInitialDelayMs: this.config.replayInitialDelayMs,
      replayMaxDelayMs: this.config.replayMaxDelayMs,
      replayTimeoutMs: this.config.exportTimeoutMs,
    });
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
      await this.exporter?.replay();
    } catch (error) {
      internalError(this.guard, 'flush', error);
    }
  }

  /** Flushes, stops heartbeats and replay timers, and closes the pipeline we own. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      for (const session of [...this.runtime.heartbeating]) session.stopHeartbeat();
      await this.flush();
      try {
        await this.ownProvider?.shutdown();
      } catch (error) {
        internalError(this.guard, 'shutdown', error);
      }
    })();
    return this.shutdownPromise;
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
