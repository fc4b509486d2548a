/**
 * Between the HTTP edge and the database: a bounded queue with group commit. A request's spans
 * are acknowledged only after the transaction holding them commits, so an accepted span is never
 * lost; while one write is in flight the next requests gather into the following batch.
 */
import { FaultlineError } from '../errors.ts';
import type { Store } from '../store/db.ts';
import { writeBatch, type BatchWriteResult } from '../store/write-batch.ts';
import type { EnrichedSpan } from './enrich.ts';

export interface PipelineStats {
  spansAccepted: number;
  spansDuplicate: number;
  /** Spans the decoder refused (bad ids), answered with OTLP partial success. */
  spansRejected: number;
  batchesWritten: number;
  writeFailures: number;
  queueDepth: number;
  lastWriteMs: number;
  writeMsTotal: number;
}

interface Pending {
  spans: EnrichedSpan[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BackPressureError extends FaultlineError {
  constructor(message: string, readonly retryAfterSeconds: number, status: 429 | 503) {
    super(status === 429 ? 'too_many_requests' : 'unavailable', status, message);
  }
}

export class IngestPipeline {
  readonly stats: PipelineStats = {
    spansAccepted: 0, spansDuplicate: 0, spansRejected: 0, batchesWritten: 0, writeFailures: 0, queueDepth: 0, lastWriteMs: 0, writeMsTotal: 0,
  };
  private queue: Pending[] = [];
  private queued = 0;
  private writing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly options: { maxQueuedSpans: number; maxBatchSpans: number },
    private readonly onWritten: (result: BatchWriteResult) => void | Promise<void> = () => {},
  ) {}

  /** Resolves once the spans are committed; rejects with BackPressureError (429/503). */
  submit(spans: EnrichedSpan[]): Promise<void> {
    if (this.closed) return Promise.reject(new BackPressureError('The collector is shutting down; retry shortly.', 5, 503));
    if (spans.length === 0) return Promise.resolve();
    if (this.queued + spans.length > this.options.maxQueuedSpans && this.queued > 0) {
      return Promise.reject(
        new BackPressureError(
          `The collector is busy: ${this.queued} spans are waiting for the database (limit ${this.options.maxQueuedSpans}). Retry after a short delay.`,
          1,
          429,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ spans, resolve, reject });
      this.queued += spans.length;
      this.stats.queueDepth = this.queued;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const take: Pending[] = [];
        let n = 0;
        while (this.queue.length > 0 && (n === 0 || n + this.queue[0].spans.length <= this.options.maxBatchSpans)) {
          const p = this.queue.shift()!;
          take.push(p);
          n += p.spans.length;
        }
        const batch = take.length === 1 ? take[0].spans : take.flatMap((p) => p.spans);
        const started = performance.now();
        let result: BatchWriteResult;
        try {
          result = await this.store.transaction((tx) => writeBatch(tx, batch));
        } catch (err) {
          this.stats.writeFailures++;
          this.queued -= n;
          this.stats.queueDepth = this.queued;
          const failure = new BackPressureError(
            `The database did not accept the write (${(err as Error).message}); nothing from this request was stored. Retry after a short delay.`,
            2,
            503,
          );
          for (const p of take) p.reject(failure);
          continue;
        }
        const ms = performance.now() - started;
        this.queued -= n;
        this.stats.queueDepth = this.queued;
        this.stats.lastWriteMs = ms;
        this.stats.writeMsTotal += ms;
        this.stats.batchesWritten++;
        this.stats.spansAccepted += result.inserted.length;
        this.stats.spansDuplicate += batch.length - result.inserted.length;
        for (const p of take) p.resolve();
        try {
          await this.onWritten(result);
        } catch {
          // Live updates are best effort; the data is committed.
        }
      }
    } finally {
      this.writing = false;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Wait for queued writes, then refuse new ones. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.writing || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
