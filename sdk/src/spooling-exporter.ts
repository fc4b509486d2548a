/**
 * Wraps the OTLP exporter so nothing is lost in an outage. A batch the exporter could not deliver
 * (after its own retries, which honour Retry-After) is serialized to the spool and reported to the
 * BatchSpanProcessor as done once it is on disk, so memory stays bounded. While the collector is
 * unreachable new batches go straight to the spool, keeping their order, and a replay loop
 * (unref'd timer, jittered exponential backoff, at least the collector's Retry-After) POSTs
 * spooled batches as raw OTLP protobuf, oldest first, deleting each only after a 2xx. The
 * collector is idempotent on (trace_id, span_id), so a batch sent twice (crash between POST and
 * delete, or a live export that outlived shutdown's deadline) is harmless.
 *
 * The outage is said once when it starts and once when it ends (debug log, `stats()`), never per
 * batch.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { scrubForExport } from './errors.ts';
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';
import type { Spool, SpoolFile } from './spool.ts';

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

/** A replay POST's answer: `retry` carries the collector's Retry-After, if it sent one. */
type ReplayOutcome = { kind: 'delivered' } | { kind: 'rejected' } | { kind: 'gone' } | { kind: 'retry'; reason: string; retryAfterMs: number | null };

/** What the collector's Retry-After asks for, bounded: a broken header must not park the spool for days. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
    return detail && !error.message.includes(detail) ? `${error.message} (${detail})` : error.message;
  }
  return String(error);
}

interface InFlight {
  spans: ReadableSpan[];
  done: (result: ExportResult) => void;
}

export class SpoolingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly spool: Spool | null;
  private readonly tracesUrl: string;
  private readonly headers: Record<string, string>;
  private readonly guard: Guard;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly requestTimeout: number;
  private readonly scrubAtExport: boolean;
  /** Failed replay passes in a row, for the backoff. */
  private attempts = 0;
  private retryAfterMs: number | null = null;
  private lastFailure = '';
  private timer: ReturnType<typeof setTimeout> | null = null;
  private replaying: Promise<boolean> | null = null;
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
    this.headers = options.headers;
    this.guard = options.guard;
    this.initialDelay = options.replayInitialDelayMs ?? 1_000;
    this.maxDelay = options.replayMaxDelayMs ?? 30_000;
    this.requestTimeout = options.replayTimeoutMs ?? 10_000;
    this.scrubAtExport = options.scrubAtExport ?? false;
    // Batches left by an earlier run (restart after an outage) go out as soon as possible.
    void this.spool?.ready.then(() => {
      if (this.spool && this.spool.pending().batches > 0) this.scheduleReplay(0);
    });
  }

  /** The directory this exporter spools to (bound to its endpoint), or null without a spool. */
  get spoolDir(): string | null {
    return this.spool?.dir ?? null;
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
    const flight: InFlight = { spans, done };
    this.inFlight.add(flight);
    try {
      this.inner.export(spans, (result) => {
        if (!this.inFlight.delete(flight)) return; // already spooled at shutdown's deadline
        if (result.code === ExportResultCode.SUCCESS) {
          this.guard.stats.spansExported += spans.length;
          done(result);
          return;
        }
        this.onLiveFailure(result.error);
        this.spoolThen(spans, done);
      });
    } catch (error) {
      this.inFlight.delete(flight);
      this.onLiveFailure(error);
      this.spoolThen(spans, done);
    }
  }

  private onLiveFailure(error: unknown): void {
    this.guard.stats.exportFailures++;
    this.markUnreachable(describeFailure(error));
    this.scheduleReplay(this.nextDelay());
  }

  /** Says once that the collector cannot be reached; later failures only update the reason. */
  private markUnreachable(reason: string): void {
    this.lastFailure = reason;
    if (!this.spool) {
      this.guard.log(`export to ${this.tracesUrl} failed (${reason}); no spool, the batch is dropped`);
      return;
    }
    if (this.guard.stats.collectorUnreachable) return;
    this.guard.stats.collectorUnreachable = true;
    this.guard.stats.outages++;
    this.guard.log(`collector at ${this.tracesUrl} unreachable (${reason}); spooling to ${this.spool.dir} and retrying with backoff`);
  }

  private markReachable(): void {
    if (!this.guard.stats.collectorUnreachable) return;
    this.guard.stats.collectorUnreachable = false;
    this.attempts = 0;
    this.retryAfterMs = null;
    this.guard.log(`collector at ${this.tracesUrl} reachable again; spool delivered`);
  }

  private spoolThen(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const write = this.toSpool(spans).then(done);
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  private async toSpool(spans: ReadableSpan[]): Promise<ExportResult> {
    try {
      if (this.spool) {
        const body = ProtobufTraceSerializer.serializeRequest(spans);
        const hasError = spans.some((span) => span.status.code === SpanStatusCode.ERROR);
        if (body && (await this.spool.write(body, spans.length, hasError))) {
          this.scheduleReplay(this.nextDelay());
          return { code: ExportResultCode.SUCCESS };
        }
      }
    } catch (error) {
      internalError(this.guard, 'spool serialize', error);
    }
    this.guard.stats.droppedSpans += spans.length;
    return { code: ExportResultCode.FAILED, error: new Error('faultline: batch could not be spooled') };
  }

  /** Full-jitter-free "equal jitter" backoff (half fixed, half random), never before Retry-After. */
  private nextDelay(): number {
    const base = Math.min(this.initialDelay * 2 ** Math.min(this.attempts, 20), this.maxDelay);
    const jittered = base / 2 + Math.random() * (base / 2);
    return Math.max(jittered, this.retryAfterMs ?? 0);
  }

  private scheduleReplay(delayMs: number): void {
    if (this.closed || this.timer || !this.spool) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.replay().then((drained) => {
        if (!drained) this.scheduleReplay(this.nextDelay());
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /**
   * Sends spooled batches oldest first until the spool is empty (true) or the collector still
   * does not take them (false). Never rejects; concurrent callers share one pass. With a
   * `deadline` (epoch ms) no request outlives it.
   */
  replay(deadline?: number): Promise<boolean> {
    if (!this.spool) return Promise.resolve(true);
    if (this.replaying) return this.replaying;
    const spool = this.spool;
    this.replaying = (async () => {
      try {
        // A file seen twice could not be deleted; stop rather than resend it forever.
        const seen = new Set<string>();
        for (;;) {
          const files = (await spool.rescan()).filter((file) => !seen.has(file.name));
          if (files.length === 0) {
            this.markReachable();
            return true;
          }
          for (const file of files) {
            seen.add(file.name);
            const outcome = await this.send(file, deadline);
            if (outcome.kind === 'retry') {
              this.attempts++;
              this.retryAfterMs = outcome.retryAfterMs;
              this.markUnreachable(outcome.reason);
              return false;
            }
            if (outcome.kind === 'delivered') {
              this.guard.stats.replayedBatches++;
              this.guard.stats.spansExported += file.spans;
              await spool.remove(file);
            } else if (outcome.kind === 'rejected') {
              await spool.drop(file);
            }
          }
        }
      } catch (error) {
        internalError(this.guard, 'replay', error);
        return false;
      } finally {
        this.replaying = null;
      }
    })();
    return this.replaying;
  }

  private async send(file: SpoolFile, deadline: number | undefined): Promise<ReplayOutcome> {
    const body = await this.spool?.read(file);
    if (!body) return { kind: 'gone' }; // another process sent and deleted it
    const timeout = deadline === undefined ? this.requestTimeout : Math.min(this.requestTimeout, deadline - Date.now());
    if (timeout <= 0) return { kind: 'retry', reason: 'shutdown deadline reached', retryAfterMs: null };
    try {
      const response = await fetch(this.tracesUrl, {
        method: 'POST',
        headers: { ...this.headers, 'Content-Type': 'application/x-protobuf' },
        body,
        signal: AbortSignal.timeout(timeout),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { kind: 'delivered' };
      // Undecodable or too large will never be accepted: keep them from blocking the queue.
      if (response.status === 400 || response.status === 413 || response.status === 415) {
        this.guard.log(`collector rejected spooled batch ${file.name} with ${response.status}; dropping it`);
        return { kind: 'rejected' };
      }
      // 429 and 5xx: the collector is there but asks us to wait (Retry-After, when sent, decides how long).
      return { kind: 'retry', reason: `HTTP ${response.status}`, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
    } catch (error) {
      return { kind: 'retry', reason: describeFailure(error), retryAfterMs: null };
    }
  }

  /**
   * Replays until the spool is empty or `deadline` (epoch ms) passes, waiting out the backoff in
   * between. For shutdown: the runtime is about to exit, so this timer keeps the process alive.
   */
  async drain(deadline: number): Promise<boolean> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.settleWrites();
    for (;;) {
      if (await this.replay(deadline)) return true;
      const wait = Math.min(this.nextDelay(), deadline - Date.now());
      if (wait <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
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
    }
  }

  /** Why the last export or replay failed, for shutdown's warning. */
  get failureReason(): string {
    return this.lastFailure;
  }

  private async settleWrites(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  async forceFlush(): Promise<void> {
    try {
      await this.inner.forceFlush?.();
    } catch (error) {
      internalError(this.guard, 'exporter flush', error);
    }
    await this.settleWrites();
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
