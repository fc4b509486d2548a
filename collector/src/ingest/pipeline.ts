/**
 * Between the HTTP edge and the database: a bounded queue with group commit. A request's spans
 * are acknowledged only after the transaction holding them commits, so an accepted span is never
 * lost; while one write is in flight the next requests gather into the following batch.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';
import type { SqlRunner, Store } from '../store/db.ts';
import { StorageUnavailableError, type StorageHealth } from '../store/health.ts';
import { writeBatch, type BatchWriteResult } from '../store/write-batch.ts';
import type { EnrichedSpan } from './enrich.ts';

export interface PipelineStats {
  spansAccepted: number;
  spansDuplicate: number;
  /** Spans the decoder refused (bad ids), answered with OTLP partial success. */
  spansRejected: number;
  /** Spans the database refused as data (not an outage); answered as rejected in partial success. */
  spansUnstorable: number;
  /** OTLP log records received (each becomes a span row, counted above as well). */
  logRecordsReceived: number;
  /** Metric data points answered with partial success: Faultline stores no metrics. */
  metricPointsRefused: number;
  batchesWritten: number;
  writeFailures: number;
  queueDepth: number;
  lastWriteMs: number;
  writeMsTotal: number;
}

/** What happened to one request's spans: stored, except `rejected` ones the database refused. */
export interface SubmitResult {
  rejected: number;
  reasons: string[];
}

interface Pending {
  spans: EnrichedSpan[];
  resolve: (result: SubmitResult) => void;
  reject: (err: unknown) => void;
}

/**
 * A failure caused by the data itself (SQLSTATE class 22 data exception, 23 integrity, 54 limit
 * exceeded), as opposed to the database being unavailable. Retrying the same data cannot help.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

const STORED: SubmitResult = { rejected: 0, reasons: [] };

/**
 * PGlite runs on the event loop: a write transaction blocks every other request while it runs
 * (~0.16 s per 1,000 spans, ~0.7 s per 5,000, at the same spans/s), so its batches stay small.
 */
const PGLITE_MAX_BATCH_SPANS = 1000;

export class BackPressureError extends FaultlineError {
  constructor(message: string, readonly retryAfterSeconds: number, status: 429 | 503) {
    super(status === 429 ? 'too_many_requests' : 'unavailable', status, message);
  }
}

function unavailable(err: unknown): BackPressureError {
  if (err instanceof StorageUnavailableError) return new BackPressureError(err.message, err.retryAfterSeconds, 503);
  return new BackPressureError(
    `The database did not accept the write (${(err as Error).message}); nothing from this request was stored. Retry after a short delay.`,
    2,
    503,
  );
}

export class IngestPipeline {
  readonly stats: PipelineStats = {
    spansAccepted: 0, spansDuplicate: 0, spansRejected: 0, spansUnstorable: 0, logRecordsReceived: 0, metricPointsRefused: 0, batchesWritten: 0, writeFailures: 0, queueDepth: 0, lastWriteMs: 0, writeMsTotal: 0,
  };
  private queue: Pending[] = [];
  private queued = 0;
  private writing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatchSpans: number;

  constructor(
    private readonly store: Store,
    private readonly options: { maxQueuedSpans: number; maxBatchSpans: number },
    private readonly onWritten: (result: BatchWriteResult) => void | Promise<void> = () => {},
    /** Runs inside each write transaction after the batch (alerts write their outbox rows here). */
    private readonly inTransaction: (tx: SqlRunner, result: BatchWriteResult) => Promise<unknown> = async () => {},
    /** The breaker: while the database is down, writes are refused at once instead of queued. */
    private readonly health: StorageHealth | null = null,
  ) {
    this.maxBatchSpans = store.kind === 'pglite' ? Math.min(options.maxBatchSpans, PGLITE_MAX_BATCH_SPANS) : options.maxBatchSpans;
  }

  /**
   * Resolves once the spans are committed (with the count of spans the database refused as
   * unstorable, for OTLP partial success); rejects with BackPressureError (429/503).
   */
  submit(spans: EnrichedSpan[]): Promise<SubmitResult> {
    if (this.closed) return Promise.reject(new BackPressureError('The collector is shutting down; retry shortly.', 5, 503));
    if (spans.length === 0) return Promise.resolve(STORED);
    if (this.health && !this.health.up) return Promise.reject(unavailable(new StorageUnavailableError(this.health.status().error ?? 'unreachable')));
    if (this.queued + spans.length > this.options.maxQueuedSpans && this.queued > 0) {
      return Promise.reject(
        new BackPressureError(
          `The collector is busy: ${this.queued} spans are waiting for the database (limit ${this.options.maxQueuedSpans}). Retry after a short delay.`,
          1,
          429,
        ),
      );
    }
    if (spans.length <= this.maxBatchSpans) return this.enqueue(spans);
    // Larger than one transaction: written in consecutive parts, answered once all committed. A
    // 503 may then leave earlier parts stored; the client's retry stores the rest (idempotent).
    const parts: Promise<SubmitResult>[] = [];
    for (let i = 0; i < spans.length; i += this.maxBatchSpans) parts.push(this.enqueue(spans.slice(i, i + this.maxBatchSpans)));
    return Promise.all(parts).then((results) => ({
      rejected: results.reduce((n, r) => n + r.rejected, 0),
      reasons: results.flatMap((r) => r.reasons),
    }));
  }

  private enqueue(spans: EnrichedSpan[]): Promise<SubmitResult> {
    return new Promise<SubmitResult>((resolve, reject) => {
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
        while (this.queue.length > 0 && (n === 0 || n + this.queue[0].spans.length <= this.maxBatchSpans)) {
          const p = this.queue.shift()!;
          take.push(p);
          n += p.spans.length;
        }
        const batch = take.length === 1 ? take[0].spans : take.flatMap((p) => p.spans);
        try {
          await this.commit(batch);
          for (const p of take) p.resolve(STORED);
        } catch (err) {
          if (isDataError(err)) {
            // One request's data must not fail the others gathered into this write: isolate it.
            for (const p of take) await this.commitAlone(p);
          } else {
            this.stats.writeFailures++;
            for (const p of take) p.reject(unavailable(err));
          }
        } finally {
          this.queued -= n;
          this.stats.queueDepth = this.queued;
        }
        // Let waiting I/O (other requests, /healthz) in between transactions: on PGlite nothing else runs during one.
        await nextTurn();
      }
    } finally {
      this.writing = false;
      if (this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** One write transaction; counts it and tells live viewers. */
  private async commit(batch: EnrichedSpan[]): Promise<void> {
    const started = performance.now();
    const write = () =>
      this.store.transaction(async (tx) => {
        const written = await writeBatch(tx, batch);
        await this.inTransaction(tx, written);
        return written;
      });
    const result = await (this.health ? this.health.guard(write) : write());
    const ms = performance.now() - started;
    this.stats.lastWriteMs = ms;
    this.stats.writeMsTotal += ms;
    this.stats.batchesWritten++;
    this.stats.spansAccepted += result.inserted.length;
    this.stats.spansDuplicate += batch.length - result.inserted.length;
    // Live updates are best effort and must not delay the acknowledgement: the data is committed.
    void Promise.resolve()
      .then(() => this.onWritten(result))
      .catch(() => {});
  }

  /**
   * A request whose data the database refused: alone first, then span by span, so every span it
   * can hold is stored and only the unstorable ones are reported back (OTLP partial success).
   */
  private async commitAlone(p: Pending): Promise<void> {
    try {
      await this.commit(p.spans);
      return p.resolve(STORED);
    } catch (err) {
      if (!isDataError(err)) {
        this.stats.writeFailures++;
        return p.reject(unavailable(err));
      }
    }
    const reasons = new Set<string>();
    let rejected = 0;
    for (const span of p.spans) {
      try {
        await this.commit([span]);
      } catch (err) {
        if (!isDataError(err)) {
          this.stats.writeFailures++;
          return p.reject(unavailable(err));
        }
        rejected++;
        reasons.add(`span ${span.span.spanId}: the database cannot store it (${(err as Error).message})`);
      }
    }
    this.stats.spansUnstorable += rejected;
    p.resolve({ rejected, reasons: [...reasons] });
  }

  /** Wait for queued writes, then refuse new ones. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.writing || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
