/**
 * Sends what waits in a spool to the collector it was written for: oldest first, raw OTLP
 * protobuf, each file deleted only after a 2xx. Used by the exporter's replay loop, by
 * `shutdown()`, and by `faultline-sdk replay`.
 *
 * A collector that does not take a batch (network error, 429, 5xx) ends the pass; the next one
 * waits a jittered exponential backoff, and never less than the collector's Retry-After. The outage
 * is said once when it starts and once when it ends (debug log, `stats()`), never per batch.
 */
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';
import type { Spool, SpoolFile } from './spool.ts';

export interface SpoolReplayerOptions {
  spool: Spool;
  /** Full URL of the OTLP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
  tracesUrl: string;
  headers: Record<string, string>;
  guard: Guard;
  /** First backoff after a failure; doubles (with jitter) up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout of a POST. */
  requestTimeoutMs?: number;
}

/** A replay POST's answer: `retry` carries the collector's Retry-After, if it sent one. */
type Outcome = { kind: 'delivered' } | { kind: 'rejected'; status: number } | { kind: 'gone' } | { kind: 'retry'; reason: string; retryAfterMs: number | null };

/** What the collector's Retry-After asks for, bounded: a broken header must not park the spool for days. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms; null when absent or unreadable. */
function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** A failure in words, with the errno (ECONNREFUSED…) fetch hides in `cause`. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const detail = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
    return detail && !error.message.includes(detail) ? `${error.message} (${detail})` : error.message;
  }
  return String(error);
}

export class SpoolReplayer {
  readonly spool: Spool;
  readonly tracesUrl: string;
  private readonly headers: Record<string, string>;
  private readonly guard: Guard;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly requestTimeout: number;
  /** Failed passes in a row, for the backoff. */
  private attempts = 0;
  private retryAfterMs: number | null = null;
  private lastFailure = '';
  /** Epoch ms before which no scheduled pass starts. */
  private notBefore = 0;
  private replaying: Promise<boolean> | null = null;

  constructor(options: SpoolReplayerOptions) {
    this.spool = options.spool;
    this.tracesUrl = options.tracesUrl;
    this.headers = options.headers;
    this.guard = options.guard;
    this.initialDelay = options.initialDelayMs ?? 1_000;
    this.maxDelay = options.maxDelayMs ?? 30_000;
    this.requestTimeout = options.requestTimeoutMs ?? 10_000;
  }

  /** Why the last export or replay failed, in words. */
  get failureReason(): string {
    return this.lastFailure;
  }

  /** "Equal jitter" exponential backoff (half fixed, half random), never shorter than Retry-After. */
  backoffMs(): number {
    const base = Math.min(this.initialDelay * 2 ** Math.min(this.attempts, 20), this.maxDelay);
    const jittered = base / 2 + Math.random() * (base / 2);
    return Math.max(jittered, this.retryAfterMs ?? 0);
  }

  /** How long until the next pass may start: a pass scheduled before a 429 arrived still waits it out. */
  waitMs(): number {
    return Math.max(0, this.notBefore - Date.now());
  }

  /**
   * Says once that the collector cannot be reached (later failures only update the reason), and
   * puts the next pass a backoff away.
   */
  markUnreachable(reason: string): void {
    this.lastFailure = reason;
    this.notBefore = Math.max(this.notBefore, Date.now() + this.backoffMs());
    if (this.guard.stats.collectorUnreachable) return;
    this.guard.stats.collectorUnreachable = true;
    this.guard.stats.outages++;
    this.guard.log(`collector at ${this.tracesUrl} unreachable (${reason}); spooling to ${this.spool.dir} and retrying with backoff`);
  }

  private markReachable(): void {
    this.attempts = 0;
    this.retryAfterMs = null;
    this.notBefore = 0;
    if (!this.guard.stats.collectorUnreachable) return;
    this.guard.stats.collectorUnreachable = false;
    this.guard.log(`collector at ${this.tracesUrl} reachable again; spool delivered`);
  }

  /**
   * Sends spooled batches oldest first until the spool is empty (true) or the collector still
   * does not take them (false). Never rejects; concurrent callers share one pass. With a
   * `deadline` (epoch ms) no request outlives it.
   */
  replay(deadline?: number): Promise<boolean> {
    if (this.replaying) return this.replaying;
    const spool = this.spool;
    this.replaying = (async () => {
      try {
        // A file seen twice could not be deleted; stop rather than resend it forever.
        const seen = new Set<string>();
        let delivered = 0;
        for (;;) {
          const files = (await spool.rescan()).filter((file) => !seen.has(file.name));
          if (files.length === 0) {
            // Back only once the collector took something: an empty spool (a batch still being
            // written, say) proves nothing.
            if (delivered > 0) this.markReachable();
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
              delivered++;
              this.guard.stats.replayedBatches++;
              this.guard.stats.spansExported += file.spans;
              await spool.remove(file);
            } else if (outcome.kind === 'rejected') {
              this.guard.log(`collector rejected spooled batch ${file.name} with ${outcome.status}; dropping it`);
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

  /**
   * Replays until the spool is empty or `deadline` (epoch ms) passes, waiting out the backoff and
   * any Retry-After in between (a ref'd timer: the caller is waiting for this).
   */
  async drain(deadline: number): Promise<boolean> {
    for (;;) {
      const wait = this.waitMs();
      if (wait > 0) {
        if ((await this.spool.rescan()).length === 0) return true; // nothing to send
        if (Date.now() + wait >= deadline) return false; // the collector asked for longer than there is
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      if (await this.replay(deadline)) return true;
      if (Date.now() >= deadline) return false;
    }
  }

  private async send(file: SpoolFile, deadline: number | undefined): Promise<Outcome> {
    const body = await this.spool.read(file);
    if (!body) return { kind: 'gone' }; // another process sent and deleted it
    const timeout = deadline === undefined ? this.requestTimeout : Math.min(this.requestTimeout, deadline - Date.now());
    if (timeout <= 0) return { kind: 'retry', reason: this.lastFailure || 'out of time', retryAfterMs: null };
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
      if (response.status === 400 || response.status === 413 || response.status === 415) return { kind: 'rejected', status: response.status };
      // 429, 5xx, 401/403 (a key being rotated): keep the batch and wait, as long as Retry-After asks.
      return { kind: 'retry', reason: `HTTP ${response.status}`, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
    } catch (error) {
      return { kind: 'retry', reason: describeFailure(error), retryAfterMs: null };
    }
  }
}
