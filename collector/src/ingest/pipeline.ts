/**
 * Between the HTTP edge and the database: a bounded queue with group commit. A request's spans
 * are acknowledged only after the transaction holding them commits, so an accepted span is never
 * lost; while writes are in flight the next requests gather into the following batch. Up to
 * `writers` transactions run at once (Postgres uses a backend per writer; PGlite has one).
 */
import { FaultlineError } from '../errors.ts';
import type { SqlRunner, Store } from '../store/db.ts';
import { StorageUnavailableError, type StorageHealth } from '../store/health.ts';
import { AlreadyStoredError, writeBatch, writeNewBatch, type BatchWriteResult } from '../store/write-batch.ts';
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
  /** Write transactions begun, committed or not (bisection of a data error included). */
  transactions: number;
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

/** Two writers (or two collectors) met on the same rows: running the transaction again succeeds. */
function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

const STORED: SubmitResult = { rejected: 0, reasons: [] };
const CONFLICT_RETRIES = 3;

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

export interface PipelineOptions {
  maxQueuedSpans: number;
  maxBatchSpans: number;
  /** Write transactions in flight at once (default 1). */
  writers?: number;
}

export class IngestPipeline {
  readonly stats: PipelineStats = {
    spansAccepted: 0, spansDuplicate: 0, spansRejected: 0, spansUnstorable: 0, logRecordsReceived: 0, metricPointsRefused: 0, batchesWritten: 0,
    transactions: 0, writeFailures: 0, queueDepth: 0, lastWriteMs: 0, writeMsTotal: 0,
  };
  private queue: Pending[] = [];
  private queued = 0;
  private writing = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly writers: number;
  private readonly maxBatchSpans: number;

  constructor(
    private readonly store: Store,
    private readonly options: PipelineOptions,
    private readonly onWritten: (result: BatchWriteResult) => void | Promise<void> = () => {},
    /** Runs inside each write transaction after the batch (alerts write their outbox rows here). */
    private readonly inTransaction: (tx: SqlRunner, result: BatchWriteResult) => Promise<unknown> = async () => {},
    /** The breaker: while the database is down, writes are refused at once instead of queued. */
    private readonly health: StorageHealth | null = null,
  ) {
    this.writers = Math.max(1, options.writers ?? 1);
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
      this.startWriters();
    });
  }

  private startWriters(): void {
    while (this.writing < this.writers && this.queue.length > 0) {
      this.writing++;
      void this.drain().finally(() => {
        this.writing--;
        if (this.writing === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** One writer: takes what is queued, up to maxBatchSpans, until the queue is empty. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // One turn of the event loop first: requests already received get decoded and join this
      // batch. Embedded PGlite runs on this thread, so without the turn no request would ever
      // arrive during a write, and every request would pay a commit of its own.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.queue.length === 0) break;
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
        if (isDataError(err)) await this.isolate(take, err as Error);
        else {
          this.stats.writeFailures++;
          for (const p of take) p.reject(unavailable(err));
        }
      } finally {
        this.queued -= n;
        this.stats.queueDepth = this.queued;
      }
    }
  }

  /**
   * Write one batch: first assuming every span is new (the fast path), then, if that was refused,
   * in a second transaction that skips what is already stored and fails only on real data errors.
   * `careful` goes straight to the second (bisection steps, whose data is known to be suspect).
   */
  private async commit(batch: EnrichedSpan[], careful = false): Promise<void> {
    if (!careful) {
      try {
        return await this.transact(batch, writeNewBatch);
      } catch (err) {
        // A refused fast path: a duplicate or bad data (reported by the COPY or, on Postgres, by the
        // statement after it as "transaction aborted"), or an occurrence already stored.
        const code = (err as { code?: unknown } | null)?.code;
        if (!(isDataError(err) || code === '25P02' || err instanceof AlreadyStoredError)) throw err;
      }
    }
    return this.transact(batch, writeBatch);
  }

  /** One write transaction (run again on a deadlock with another writer); counts it and tells live viewers. */
  private async transact(batch: EnrichedSpan[], write: typeof writeBatch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      this.stats.transactions++;
      let result: BatchWriteResult;
      try {
        const run = () =>
          this.store.transaction(async (tx) => {
            const written = await write(tx, batch);
            await this.inTransaction(tx, written);
            return written;
          });
        result = await (this.health ? this.health.guard(run) : run());
      } catch (err) {
        if (attempt < CONFLICT_RETRIES && isRetryableConflict(err)) continue;
        throw err;
      }
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
      return;
    }
  }

  /**
   * A batch the database refused as data: find the unstorable spans by bisection, so one bad span
   * among n costs about log2(n) more transactions instead of one per span, and every other span
   * lands. Each request then learns how many of its own spans were refused (OTLP partial success).
   * An outage during the search answers the whole batch 503; what was committed by then is
   * deduplicated when the clients retry.
   */
  private async isolate(take: Pending[], error: Error): Promise<void> {
    const owner = new Map<EnrichedSpan, Pending>();
    for (const p of take) for (const s of p.spans) owner.set(s, p);
    const refused: { span: EnrichedSpan; reason: string }[] = [];
    try {
      await this.bisect(take.flatMap((p) => p.spans), error, false, refused);
    } catch (err) {
      this.stats.writeFailures++;
      for (const p of take) p.reject(unavailable(err));
      return;
    }
    this.stats.spansUnstorable += refused.length;
    const byRequest = new Map<Pending, string[]>();
    for (const { span, reason } of refused) {
      const p = owner.get(span)!;
      byRequest.set(p, [...(byRequest.get(p) ?? []), `span ${span.span.spanId}: the database cannot store it (${reason})`]);
    }
    for (const p of take) {
      const reasons = byRequest.get(p);
      p.resolve(reasons ? { rejected: reasons.length, reasons: [...new Set(reasons)] } : STORED);
    }
  }

  /**
   * `refusedWith`: the data error this exact list just got, when it was tried as a whole.
   * `suspect`: its sibling half committed although the two together were refused, so the fault is
   * most likely here; it is split without trying it whole, saving a transaction per level. A
   * single span is only ever refused after being tried by itself.
   */
  private async bisect(
    spans: EnrichedSpan[],
    refusedWith: Error | null,
    suspect: boolean,
    refused: { span: EnrichedSpan; reason: string }[],
  ): Promise<void> {
    let error = refusedWith;
    if (!error && (!suspect || spans.length === 1)) {
      try {
        await this.commit(spans, true);
        return;
      } catch (err) {
        if (!isDataError(err)) throw err;
        error = err as Error;
      }
    }
    if (spans.length === 1) {
      refused.push({ span: spans[0], reason: error!.message });
      return;
    }
    const mid = Math.ceil(spans.length / 2);
    const before = refused.length;
    await this.bisect(spans.slice(0, mid), null, false, refused);
    await this.bisect(spans.slice(mid), null, refused.length === before, refused);
  }

  /** Wait for queued writes, then refuse new ones. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.writing > 0 || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }
}
