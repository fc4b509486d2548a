/**
 * Wraps the OTLP exporter so nothing is lost in an outage. A batch the exporter could not deliver
 * (after its own retries) is serialized to the spool and reported to the BatchSpanProcessor as
 * done, so memory stays bounded. While the collector is down new batches go straight to the spool,
 * keeping their order; a replay loop (unref'd timer, exponential backoff) POSTs spooled batches as
 * raw OTLP protobuf, oldest first, deleting each only after a 2xx. The collector is idempotent on
 * (trace_id, span_id), so a batch sent twice (crash between POST and delete) is harmless.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';
import type { Spool, SpoolFile } from './spool.ts';

export interface SpoolingExporterOptions {
  inner: SpanExporter;
  /** null when the spool directory is unusable: failed batches are then counted as dropped. */
  spool: Spool | null;
  /** Full URL of the OTLP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  tracesUrl: string;
  headers: Record<string, string>;
  guard: Guard;
  /** First replay delay after a failure; doubles up to replayMaxDelayMs. */
  replayInitialDelayMs?: number;
  replayMaxDelayMs?: number;
  /** Per-request timeout of a replay POST. */
  replayTimeoutMs?: number;
}

type ReplayOutcome = 'delivered' | 'rejected' | 'unreachable' | 'gone';

export class SpoolingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly spool: Spool | null;
  private readonly tracesUrl: string;
  private readonly headers: Record<string, string>;
  private readonly guard: Guard;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly requestTimeout: number;
  /** Set after a failed export; cleared when a replay pass empties the spool. */
  private collectorDown = false;
  private delay: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private replaying: Promise<boolean> | null = null;
  private closed = false;

  constructor(options: SpoolingExporterOptions) {
    this.inner = options.inner;
    this.spool = options.spool;
    this.tracesUrl = options.tracesUrl;
    this.headers = options.headers;
    this.guard = options.guard;
    this.initialDelay = options.replayInitialDelayMs ?? 1_000;
    this.maxDelay = options.replayMaxDelayMs ?? 30_000;
    this.requestTimeout = options.replayTimeoutMs ?? 10_000;
    this.delay = this.initialDelay;
    // Batches left by an earlier run (restart after an outage) go out as soon as possible.
    if (this.spool && this.spool.list().length > 0) this.scheduleReplay(0);
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
    if (this.collectorDown && this.spool) {
      done(this.toSpool(spans));
      return;
    }
    try {
      this.inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          this.guard.stats.spansExported += spans.length;
          done(result);
          return;
        }
        this.onLiveFailure(result.error);
        done(this.toSpool(spans));
      });
    } catch (error) {
      this.onLiveFailure(error);
      done(this.toSpool(spans));
    }
  }

  private onLiveFailure(error: unknown): void {
    this.guard.stats.exportFailures++;
    this.guard.log('export failed; spooling until the collector is back', error);
    if (!this.spool) return;
    this.collectorDown = true;
    this.scheduleReplay(this.delay);
  }

  private toSpool(spans: ReadableSpan[]): ExportResult {
    try {
      const body = this.spool ? ProtobufTraceSerializer.serializeRequest(spans) : undefined;
      const hasError = spans.some((span) => span.status.code === SpanStatusCode.ERROR);
      if (body && this.spool?.write(body, spans.length, hasError)) {
        this.scheduleReplay(this.delay);
        return { code: ExportResultCode.SUCCESS };
      }
    } catch (error) {
      internalError(this.guard, 'spool serialize', error);
    }
    this.guard.stats.droppedSpans += spans.length;
    return { code: ExportResultCode.FAILED, error: new Error('faultline: batch could not be spooled') };
  }

  private scheduleReplay(delayMs: number): void {
    if (this.closed || this.timer || !this.spool) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.replay().then((drained) => {
        if (drained) {
          this.delay = this.initialDelay;
        } else {
          this.delay = Math.min(this.delay * 2, this.maxDelay);
          this.scheduleReplay(this.delay);
        }
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /**
   * Sends spooled batches oldest first until the spool is empty (true) or the collector is still
   * unreachable (false). Never rejects; concurrent callers share one pass.
   */
  replay(): Promise<boolean> {
    if (!this.spool) return Promise.resolve(true);
    if (this.replaying) return this.replaying;
    const spool = this.spool;
    this.replaying = (async () => {
      try {
        spool.refreshStats();
        // A file seen twice could not be deleted; stop rather than resend it forever.
        const seen = new Set<string>();
        for (;;) {
          const files = spool.list().filter((file) => !seen.has(file.name));
          if (files.length === 0) {
            this.collectorDown = false;
            return true;
          }
          for (const file of files) {
            seen.add(file.name);
            const outcome = await this.send(file);
            if (outcome === 'unreachable') return false;
            if (outcome === 'gone') continue;
            if (outcome === 'delivered') {
              this.guard.stats.replayedBatches++;
              this.guard.stats.spansExported += file.spans;
              spool.remove(file);
            } else {
              spool.drop(file);
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

  private async send(file: SpoolFile): Promise<ReplayOutcome> {
    const body = this.spool?.read(file);
    if (!body) return 'gone'; // another process sent and deleted it
    try {
      const response = await fetch(this.tracesUrl, {
        method: 'POST',
        headers: { ...this.headers, 'Content-Type': 'application/x-protobuf' },
        body,
        signal: AbortSignal.timeout(this.requestTimeout),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return 'delivered';
      // Undecodable or too large will never be accepted: keep them from blocking the queue.
      if (response.status === 400 || response.status === 413 || response.status === 415) {
        this.guard.log(`collector rejected spooled batch ${file.name} with ${response.status}; dropping it`);
        return 'rejected';
      }
      this.guard.log(`replay of ${file.name} answered ${response.status}; will retry`);
      return 'unreachable';
    } catch (error) {
      this.guard.log(`replay of ${file.name} failed; will retry`, error);
      return 'unreachable';
    }
  }

  async forceFlush(): Promise<void> {
    try {
      await this.inner.forceFlush?.();
    } catch (error) {
      internalError(this.guard, 'exporter flush', error);
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.inner.shutdown();
    } catch (error) {
      internalError(this.guard, 'exporter shutdown', error);
    }
  }
}
