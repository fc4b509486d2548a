/**
 * Decoding OTLP traces and logs with the request limits (otlp/limits.ts), off the event loop when
 * it is heavy, for every OTLP path (HTTP and gRPC, through export.ts). A body that is big once
 * decompressed is decoded in a worker thread (piscina), so /healthz and the API keep answering
 * while a maximum-size request is read (JSON.parse of 64 MiB alone takes ~0.5 s); the worker sends
 * the spans back in slices, so taking them in never blocks the event loop for long either. Small
 * bodies, the usual case, are decoded on the event loop: the round trip and the copy would cost
 * more. Enrichment stays on the event loop, in 10 ms slices (enrichSpansYielding), because the
 * operator's rules are compiled there.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { FaultlineError } from '../errors.ts';
import { decodeLogsRequest, decodeTraceRequest, type OtlpFormat } from '../otlp/index.ts';
import type { OtlpLimits } from '../otlp/limits.ts';
import type { DecodedSpan } from '../otlp/types.ts';
import { logRecordsToSpans } from './logs.ts';

/** Decompressed bodies up to this size are decoded on the event loop (a few ms of work). */
export const INLINE_BODY_BYTES = 512 * 1024;
/** Spans per message from the worker: each takes a few ms to receive. */
const SLICE_SPANS = 1000;
/** The worker's heap: a request that needs more is refused (413) instead of taking the collector down. */
const WORKER_HEAP_MB = 1536;
/** Requests waiting for the worker before ingest answers 429. */
const MAX_QUEUED_REQUESTS = 8;
const MAX_REASONS = 5;

export type DecodedSignal = 'traces' | 'logs';

export interface DecodedRequest {
  /** Spans, or log records as spans (ingest/logs.ts). */
  spans: DecodedSpan[];
  /** Log records read (logs only). */
  records: number;
  /** Items refused by the decoder or the limits, answered as OTLP partial success. */
  rejectedCount: number;
  /** Distinct reasons for them, the first few (for the partial-success message). */
  rejectReasons: string[];
  /** What the limits cut without rejecting an item. */
  warnings: string[];
}

export interface DecodeTask {
  signal: DecodedSignal;
  body: Uint8Array;
  format: OtlpFormat;
  limits: OtlpLimits;
  /** Arrival time of the request (log records without a time take it). */
  receivedAtMs: number;
}

/** Decode on the current thread (inline, and inside the worker). */
export function decodeRequest(task: DecodeTask): DecodedRequest {
  let spans: DecodedSpan[];
  let records = 0;
  let rejected;
  let warnings;
  if (task.signal === 'logs') {
    const decoded = decodeLogsRequest(task.body, task.format, task.limits);
    records = decoded.records.length;
    spans = logRecordsToSpans(decoded.records, new Date(task.receivedAtMs));
    ({ rejected, warnings } = decoded);
  } else {
    ({ spans, rejected, warnings } = decodeTraceRequest(task.body, task.format, task.limits));
  }
  const reasons = new Set<string>();
  for (const r of rejected) {
    if (reasons.size >= MAX_REASONS) break;
    reasons.add(r.reason);
  }
  return { spans, records, rejectedCount: rejected.length, rejectReasons: [...reasons], warnings };
}

/** What the worker posts on the task's port: slices of spans, then the summary. */
export type WorkerMessage = { spans: DecodedSpan[] } | { done: Omit<DecodedRequest, 'spans'> };

/** The worker's side: decode, then post the spans in slices and the summary last. */
export function decodeAndPost(task: DecodeTask & { port: MessagePort }): void {
  const { port, ...rest } = task;
  try {
    const { spans, ...summary } = decodeRequest(rest);
    for (let i = 0; i < spans.length; i += SLICE_SPANS) port.postMessage({ spans: spans.slice(i, i + SLICE_SPANS) } satisfies WorkerMessage);
    port.postMessage({ done: summary } satisfies WorkerMessage);
  } finally {
    port.close();
  }
}

/** The request was too big to decode within the worker's memory: it can never succeed (413). */
export class RequestTooHeavyError extends FaultlineError {
  constructor(cause: unknown) {
    super('payload_too_large', 413, `The request needs more than the collector's ${WORKER_HEAP_MB} MiB decoding memory; send smaller batches.`, { cause });
  }
}

/** Too many big requests are waiting for the decoder: try again shortly (429). */
export class DecoderBusyError extends FaultlineError {
  readonly retryAfterSeconds = 1;
  constructor() {
    super('too_many_requests', 429, `The collector is decoding ${MAX_QUEUED_REQUESTS} large requests already; retry after a short delay.`);
  }
}

function workerFile(): string {
  // Beside this module, in the same language: prepare-worker.ts from source, .js once built.
  const self = fileURLToPath(import.meta.url);
  return path.join(path.dirname(self), `prepare-worker${path.extname(self)}`);
}

export class RequestPreparer {
  private pool: Piscina | null = null;

  constructor(private readonly options: { limits: OtlpLimits }) {}

  /**
   * Decode a (decompressed) traces or logs body within the limits; throws OtlpDecodeError (400)
   * and the two errors above.
   */
  async decode(signal: DecodedSignal, body: Uint8Array, format: OtlpFormat): Promise<DecodedRequest> {
    const task: DecodeTask = { signal, body, format, limits: this.options.limits, receivedAtMs: Date.now() };
    if (body.byteLength <= INLINE_BODY_BYTES) return decodeRequest(task);
    return this.inWorker(task);
  }

  private async inWorker(task: DecodeTask): Promise<DecodedRequest> {
    const pool = this.workerPool();
    if (pool.queueSize >= MAX_QUEUED_REQUESTS) throw new DecoderBusyError();
    const { port1, port2 } = new MessageChannel();
    const spans: DecodedSpan[] = [];
    const summary = new Promise<Omit<DecodedRequest, 'spans'>>((resolve) => {
      port1.on('message', (m: WorkerMessage) => {
        if ('done' in m) resolve(m.done);
        else for (const s of m.spans) spans.push(s);
      });
    });
    // The body moves to the worker without a copy (it is not used here again).
    const body = task.body.byteOffset === 0 && task.body.byteLength === task.body.buffer.byteLength ? task.body : task.body.slice();
    try {
      await pool.run({ ...task, body, port: port2 }, { transferList: [port2, body.buffer as ArrayBuffer] });
      return { spans, ...(await summary) };
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw new RequestTooHeavyError(err);
      throw err;
    } finally {
      port1.close();
    }
  }

  private workerPool(): Piscina {
    if (this.pool) return this.pool;
    const filename = workerFile();
    // Run from TypeScript source (tests, scripts): the worker needs the same loader as this thread,
    // and the workspace packages' sources (the `@faultline/source` export condition), not their builds.
    const fromSource = filename.endsWith('.ts');
    const execArgv = [...process.execArgv];
    if (fromSource && !execArgv.some((a) => /\btsx\b/.test(a))) execArgv.push('--import', 'tsx');
    if (fromSource && !execArgv.some((a) => a.includes('@faultline/source'))) execArgv.push('--conditions=@faultline/source');
    this.pool = new Piscina({
      filename,
      execArgv,
      // One core stays with the event loop (and PGlite, which runs on it).
      maxThreads: Math.max(1, Math.min(2, os.availableParallelism() - 1)),
      minThreads: 1,
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    return this.pool;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}
