/**
 * Wraps the OTLP exporter so nothing is lost in an outage. A batch the exporter could not deliver
 * (after its own retries, which honour Retry-After) is serialized to the spool and reported to the
 * BatchSpanProcessor as done once it is on disk, so memory stays bounded. While the collector is
 * unreachable new batches go straight to the spool, keeping their order, and a replay loop
 * (unref'd timer, `SpoolReplayer`'s backoff) sends them when it is back. The collector is
 * idempotent on (trace_id, span_id), so a batch sent twice (crash between POST and delete, or a
 * live export that outlived shutdown's deadline) is harmless.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { scrubForExport } from './errors.ts';
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';
import { SpoolReplayer, describeFailure } from './replay.ts';
import type { Spool } from './spool.ts';

export interface SpoolingExporterOptions {
  inner: SpanExporter;
  /** null when there is no spool: failed batches are then counted as dropped. */
  spool: Spool | null;
  /** Full URL of the OTLP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  tracesUrl: string;
  headers: Record<string, string>;
  guard: Guard;
  /** First replay delay after a failure; doubles (with jitter) up to replayMaxDelayMs. */
  replayInitialDelayMs?: number;
  replayMaxDelayMs?: number;
  /** Per-request timeout of a replay POST. */
  replayTimeoutMs?: number;
  /**
   * Scrub secrets from exception messages, stacks and status messages here, at export time, so
   * `fail()` does not pay for it on the runtime's call path.
   */
  scrubAtExport?: boolean;
}

interface InFlight {
  spans: ReadableSpan[];
  done: (result: ExportResult) => void;
  /** Resolved once the batch is answered live or handed to the spool. */
  settled: Promise<void>;
  settle: () => void;
}

export class SpoolingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly spool: Spool | null;
  private readonly replayer: SpoolReplayer | null;
  private readonly tracesUrl: string;
  private readonly guard: Guard;
  private readonly scrubAtExport: boolean;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Live exports not answered yet; spooled by `spoolInFlight()` when shutdown runs out of time. */
  private readonly inFlight = new Set<InFlight>();
  /** Spool writes in progress, awaited by flush and shutdown. */
  private readonly writes = new Set<Promise<unknown>>();
  /** No live attempts any more (shutdown's deadline passed): everything goes to the spool. */
  private spoolOnly = false;
  private closed = false;
  /** Set by shutdown: the inner exporter's own shutdown is not waited for past it. */
  private deadline: number | null = null;

  constructor(options: SpoolingExporterOptions) {
    this.inner = options.inner;
    this.spool = options.spool;
    this.tracesUrl = options.tracesUrl;
    this.guard = options.guard;
    this.scrubAtExport = options.scrubAtExport ?? false;
    this.replayer = options.spool
      ? new SpoolReplayer({
          spool: options.spool,
          tracesUrl: options.tracesUrl,
          headers: options.headers,
          guard: options.guard,
          initialDelayMs: options.replayInitialDelayMs,
          maxDelayMs: options.replayMaxDelayMs,
          requestTimeoutMs: options.replayTimeoutMs,
        })
      : null;
    // Batches left by an earlier run (restart after an outage) go out as soon as possible.
    void this.spool?.ready.then(() => {
      if (this.spool && this.spool.pending().batches > 0) this.scheduleReplay();
    });
  }

  /** The directory this exporter spools to (bound to its endpoint), or null without a spool. */
  get spoolDir(): string | null {
    return this.spool?.dir ?? null;
  }

  /** Why the last export or replay failed, for shutdown's warning. */
  get failureReason(): string {
    return this.replayer?.failureReason ?? '';
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let answered = false;
    const done = (result: ExportResult) => {
      if (answered) return;
      answered = true;
      try {
        resultCallback(result);
      } catch (error) {
        internalError(this.guard, 'export callback', error);
      }
    };
    if (this.scrubAtExport) {
      try {
        for (const span of spans) if (span.status.code === SpanStatusCode.ERROR) scrubForExport(span);
      } catch (error) {
        internalError(this.guard, 'export scrub', error);
      }
    }
    if (this.spool && (this.guard.stats.collectorUnreachable || this.spoolOnly)) {
      this.spoolThen(spans, done);
      return;
    }
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const flight: InFlight = { spans, done, settled, settle };
    this.inFlight.add(flight);
    try {
      this.inner.export(spans, (result) => {
        if (!this.inFlight.delete(flight)) return; // already spooled at shutdown's deadline
        if (result.code === ExportResultCode.SUCCESS) {
          this.guard.stats.spansExported += spans.length;
          done(result);
        } else {
          this.onLiveFailure(result.error);
          this.spoolThen(spans, done);
        }
        settle();
      });
    } catch (error) {
      this.inFlight.delete(flight);
      this.onLiveFailure(error);
      this.spoolThen(spans, done);
      settle();
    }
  }

  private onLiveFailure(error: unknown): void {
    this.guard.stats.exportFailures++;
    const reason = describeFailure(error);
    if (!this.replayer) {
      this.guard.log(`export to ${this.tracesUrl} failed (${reason}); no spool, the batch is dropped`);
      return;
    }
    this.replayer.markUnreachable(reason);
    this.scheduleReplay();
  }

  private spoolThen(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const write = this.toSpool(spans).then(done);
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  private async toSpool(spans: ReadableSpan[]): Promise<ExportResult> {
    try {
      if (this.spool && this.replayer) {
        const body = ProtobufTraceSerializer.serializeRequest(spans);
        const hasError = spans.some((span) => span.status.code === SpanStatusCode.ERROR);
        if (body && (await this.spool.write(body, spans.length, hasError))) {
          this.scheduleReplay();
          return { code: ExportResultCode.SUCCESS };
        }
      }
    } catch (error) {
      internalError(this.guard, 'spool serialize', error);
    }
    this.guard.stats.droppedSpans += spans.length;
    return { code: ExportResultCode.FAILED, error: new Error('faultline: batch could not be spooled') };
  }

  /** A replay pass once the backoff (and any Retry-After) allows, unless one is already due. */
  private scheduleReplay(): void {
    const replayer = this.replayer;
    if (this.closed || this.timer || !replayer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A 429 that arrived after this timer was set moved the next pass further out.
      if (replayer.waitMs() > 0) return this.scheduleReplay();
      void replayer.replay().then((drained) => {
        if (!drained) this.scheduleReplay();
      });
    }, replayer.waitMs());
    this.timer.unref?.();
  }

  /** One pass over the spool now (flush); resolves true when it is empty. */
  replay(): Promise<boolean> {
    return this.replayer?.replay() ?? Promise.resolve(true);
  }

  /** Replays until the spool is empty or `deadline` (epoch ms) passes: shutdown's last effort. */
  async drain(deadline: number): Promise<boolean> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.settle();
    return this.replayer?.drain(deadline) ?? true;
  }

  /**
   * Shutdown's deadline passed: live exports still waiting on the network are written to the
   * spool now (and answered), and later batches skip the network.
   */
  spoolInFlight(): void {
    if (this.inFlight.size > 0) this.guard.log(`${this.inFlight.size} export(s) still waiting on ${this.tracesUrl}; spooling them`);
    this.spoolOnly = true;
    for (const flight of [...this.inFlight]) {
      this.inFlight.delete(flight);
      this.spoolThen(flight.spans, flight.done);
      flight.settle();
    }
  }

  private async settleWrites(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /**
   * Waits until every batch handed to this exporter is answered live or on disk. The
   * BatchSpanProcessor's forceFlush does not wait for an export its timer already started.
   */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0 || this.writes.size > 0) {
      await Promise.all([...[...this.inFlight].map((flight) => flight.settled), ...this.writes]);
    }
  }

  async forceFlush(): Promise<void> {
    try {
      await this.inner.forceFlush?.();
    } catch (error) {
      internalError(this.guard, 'exporter flush', error);
    }
    await this.settle();
  }

  /** Shutdown has begun; it must be over by `deadline` (epoch ms). */
  beginShutdown(deadline: number): void {
    this.deadline = deadline;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Exports the inner exporter still holds are spooled, not waited for: the runtime is exiting.
    this.spoolInFlight();
    await this.settleWrites();
    const innerShutdown = (async () => {
      try {
        await this.inner.shutdown();
      } catch (error) {
        internalError(this.guard, 'exporter shutdown', error);
      }
    })();
    if (this.deadline === null) return innerShutdown;
    // The OTLP exporter waits for its own retries; what it still holds is already in the spool.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pastDeadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, this.deadline! - Date.now()));
      timer.unref?.();
    });
    await Promise.race([innerShutdown, pastDeadline]);
    clearTimeout(timer);
  }
}
