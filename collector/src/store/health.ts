/**
 * Storage health and the circuit breaker in front of it. While Postgres is down or frozen the
 * collector must answer at once — 503 with Retry-After — instead of letting requests hang on a
 * connection that will never answer. A probe (`select 1` on a connection of its own) runs every
 * PROBE_INTERVAL_MS; one that fails, or stays unanswered for FAULTLINE_DB_PROBE_TIMEOUT_MS, opens the
 * breaker, and so does any operation that fails because the server is unreachable. While open,
 * every storage operation is refused without touching the database and operations already waiting
 * are answered 503 at once. The first probe that succeeds closes it: recovery follows the
 * database's return within a probe interval. The connections are left alone: a frozen server
 * finishes what it was doing when it wakes (a write caught mid-transaction may then commit after its
 * request was answered 503; the client's retry is a no-op, storage being idempotent), and a stopped
 * one has already closed them.
 * Embedded PGlite runs in this process: it is never "down", so it is never probed.
 */
import { FaultlineError } from '../errors.ts';

/**
 * A freeze is noticed within this interval plus FAULTLINE_DB_PROBE_TIMEOUT_MS (so a request caught
 * by one is answered within a second); while down, the same cadence sets the recovery delay. Ten
 * `select 1` a second on one connection cost the server nothing worth counting.
 */
export const PROBE_INTERVAL_MS = 100;
/** What a refused request is told: a probe interval or two is enough to know more. */
export const UNAVAILABLE_RETRY_AFTER_S = 2;

export class StorageUnavailableError extends FaultlineError {
  readonly retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_S;
  constructor(detail: string, cause?: unknown) {
    super(
      'storage_unavailable',
      503,
      `The database is unavailable (${detail}); nothing was stored or read. Retry after ${UNAVAILABLE_RETRY_AFTER_S} s.`,
      { cause },
    );
    this.name = 'StorageUnavailableError';
  }
}

// postgres.js connection errors (src/errors.js), socket errors, and SQLSTATE classes that mean the
// server cannot serve: 08 connection exception, 57P01-57P03 shutdown / cannot connect now, 53300 too many connections.
const UNAVAILABLE_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300',
]);

/** Whether an error says the database cannot be reached (as opposed to a bad query or bad data). */
export function isUnavailableError(err: unknown): boolean {
  // Drizzle wraps the driver's error (DrizzleQueryError, `cause`): look down the chain.
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StorageUnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  }
  return false;
}

export interface StorageStatus {
  kind: 'pglite' | 'postgres';
  state: 'up' | 'down';
  /** When the current state began (ISO time). */
  since: string;
  /** Why it is down. */
  error: string | null;
}

/** One probe; `signal` aborts when the probe is given up, so the store can drop its connection. */
type Prober = (signal: AbortSignal) => Promise<void>;

export class StorageHealth {
  private state: 'up' | 'down' = 'up';
  private since = new Date();
  private error: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly waiters = new Set<(err: StorageUnavailableError) => void>();
  /** Counters for /metrics. */
  readonly stats = { trips: 0, probes: 0, probeFailures: 0 };

  constructor(
    private readonly kind: 'pglite' | 'postgres',
    private readonly prober: Prober | null,
    private readonly options: { probeTimeoutMs: number; connectTimeoutMs?: number },
  ) {}

  /**
   * Whether the probe's own connection is open (its last probe answered). A probe that must first
   * connect — the first one after start, while the collector itself is still starting and the
   * machine is busy — is given the connect timeout: a slow handshake is not a frozen server. Once
   * connected, a `select 1` unanswered for the probe timeout is.
   */
  private connected = false;

  get up(): boolean {
    return this.state === 'up';
  }

  status(): StorageStatus {
    return { kind: this.kind, state: this.state, since: this.since.toISOString(), error: this.error };
  }

  /** Starts probing (Postgres only). */
  start(): void {
    if (!this.prober || this.timer || this.stopped) return;
    const loop = async () => {
      await this.probeOnce();
      if (!this.stopped) this.timer = setTimeout(loop, PROBE_INTERVAL_MS).unref();
    };
    this.timer = setTimeout(loop, 0).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Throws StorageUnavailableError while the breaker is open. */
  assertUp(): void {
    if (this.state === 'down') throw new StorageUnavailableError(this.error ?? 'unreachable');
  }

  /**
   * Runs a storage operation unless the breaker is open; if the breaker opens while it runs, the
   * caller gets StorageUnavailableError at once (the operation is left to finish or fail on its own).
   * An operation failing because the server is unreachable opens the breaker.
   */
  async guard<T>(operation: () => Promise<T>): Promise<T> {
    this.assertUp();
    let abandon!: (err: StorageUnavailableError) => void;
    const tripped = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.waiters.add(abandon);
    const running = operation();
    // Once abandoned, its own later failure is expected and not anyone's to handle.
    running.catch(() => {});
    try {
      return await Promise.race([running, tripped]);
    } catch (err) {
      if (!(err instanceof StorageUnavailableError) && isUnavailableError(err)) {
        this.trip(describe(err));
        throw new StorageUnavailableError(describe(err), err);
      }
      throw err;
    } finally {
      this.waiters.delete(abandon);
    }
  }

  /** Report an unavailability seen elsewhere (a failed query outside guard()); returns whether it was one. */
  report(err: unknown): boolean {
    if (!isUnavailableError(err)) return false;
    if (!(err instanceof StorageUnavailableError)) this.trip(describe(err));
    return true;
  }

  private trip(reason: string): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.since = new Date();
    this.error = reason;
    this.stats.trips++;
    console.error(`Database unavailable (${reason}): answering 503 until it is back.`);
    const err = new StorageUnavailableError(reason);
    for (const w of this.waiters) w(err);
    this.waiters.clear();
  }

  private recover(): void {
    if (this.state === 'up') return;
    const downMs = Date.now() - this.since.getTime();
    this.state = 'up';
    this.since = new Date();
    this.error = null;
    console.log(`Database available again after ${(downMs / 1000).toFixed(1)} s.`);
  }

  private async probeOnce(): Promise<void> {
    this.stats.probes++;
    const abort = new AbortController();
    const timeoutMs = this.connected ? this.options.probeTimeoutMs : Math.max(this.options.probeTimeoutMs, this.options.connectTimeoutMs ?? 0);
    const probe = this.prober!(abort.signal).then(
      () => ({ ok: true as const }),
      (err: unknown) => ({ ok: false as const, reason: describe(err) }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: false; reason: string }>((resolve) => {
      timer = setTimeout(() => {
        // A timer can fire late because this thread was busy: let I/O that already arrived (the
        // probe's answer) be handled first, so a blocked event loop is not taken for a frozen server.
        setImmediate(() => resolve({ ok: false, reason: `no answer to a health probe within ${timeoutMs} ms` }));
      }, timeoutMs);
    });
    const result = await Promise.race([probe, timeout]);
    clearTimeout(timer);
    if (!result.ok) abort.abort();
    // A failed or abandoned probe drops its connection; the next one connects afresh.
    this.connected = result.ok;
    if (this.stopped) return;
    if (result.ok) this.recover();
    else {
      this.stats.probeFailures++;
      this.trip(result.reason);
    }
  }
}

function describe(err: unknown): string {
  let e = err as { code?: string; message?: string; cause?: unknown };
  // The driver's own words, not the ORM's "Failed query: …" around them.
  while (e?.cause && !e.code) e = e.cause as typeof e;
  const message = e?.message ?? String(err);
  return e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
