/**
 * Alerts in a running collector: the rules in memory for the write-path hooks, and the delivery
 * worker — error-rate evaluation, outbox dispatch, sending with backoff and pacing. Time comes
 * from `clock` so tests move it instead of sleeping; `runOnce()` does one full round and waits
 * for its sends.
 */
import { codesOf, type Config } from '../config.ts';
import { describeForLog } from '../errors.ts';
import type { SqlRunner, Store } from '../store/db.ts';
import type { BatchWriteResult } from '../store/write-batch.ts';
import { syncAlertsFile } from './alerts-file.ts';
import { dispatchEvents } from './dispatch.ts';
import { evaluateErrorRates } from './error-rate.ts';
import { alertsAfterGroupStatus, alertsAfterIngestWrite, alertsAfterStuck } from './fire.ts';
import type { RenderContext } from './payloads.ts';
import { AlertRuleSet, loadRuleSet } from './rules.ts';
import { attemptDelivery, claimDelivery, recordOutcome, type BackoffOptions, type Claimed } from './send.ts';

export interface AlertRuntimeOptions {
  clock?: () => number;
  fetch?: typeof fetch;
  /** How often the worker looks for work when nothing woke it. */
  tickMs?: number;
  /** How often rules made on other collectors are picked up. */
  rulesRefreshMs?: number;
  backoff?: BackoffOptions;
  /** Requests in flight at once (different destinations, or a destination without a minimum interval). */
  maxInFlight?: number;
  /** Start the timer-driven worker (tests drive `runOnce()` instead). */
  worker?: boolean;
}

export interface DeliveryCounters {
  sent: number;
  /** Attempts that failed and were scheduled again. */
  retried: number;
  failed: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 300_000 };
/** A lease outlives the request's timeout by this, so a live worker always records its outcome first. */
const LEASE_MARGIN_MS = 5000;
/** How long a wake-up waits for more commits before the round runs. */
const WAKE_DELAY_MS = 50;

export class AlertRuntime {
  rules: AlertRuleSet = AlertRuleSet.EMPTY;
  readonly counters: DeliveryCounters = { sent: 0, retried: 0, failed: 0 };
  private baseUrl: string;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private lastRefresh = -Infinity;
  private lastEvaluation = -Infinity;
  private readonly inFlight = new Set<Promise<void>>();
  private lastFailure = '';
  private soon: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly options: AlertRuntimeOptions = {},
  ) {
    this.baseUrl = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  }

  /** Whether the timer-driven worker runs (tests drive rounds themselves). */
  get working(): boolean {
    return this.options.worker !== false && !this.stopped;
  }

  now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** The URL links in messages point at, once the server knows its port (FAULTLINE_PUBLIC_URL wins). */
  setBaseUrl(url: string): void {
    if (!this.config.publicUrl) this.baseUrl = url;
  }

  get renderContext(): RenderContext {
    return { baseUrl: this.baseUrl, codes: codesOf(this.config) };
  }

  /** Write the FAULTLINE_ALERTS file, load the rules, then start the worker. */
  async start(): Promise<void> {
    if (this.config.alerts) await syncAlertsFile(this.store, this.config.alerts);
    // Embedded storage has one process: a lease still held is a crashed run's, and its delivery goes again now.
    if (this.store.kind === 'pglite') await this.store.query('update alert_deliveries set lease_until = null, lease_token = null where lease_until is not null');
    await this.refresh();
    if (this.options.worker !== false) {
      this.timer = setInterval(() => this.wake(), this.options.tickMs ?? 500);
      this.timer.unref();
    }
  }

  async refresh(): Promise<void> {
    this.rules = await loadRuleSet(this.store);
    this.lastRefresh = this.now();
  }

  // ── hooks, each inside the transaction of what fired it ──────────────────────────────────────

  afterIngestWrite = (tx: SqlRunner, result: BatchWriteResult): Promise<number> => alertsAfterIngestWrite(tx, this.rules, result, this.now());
  afterStuck = (tx: SqlRunner, flagged: { id: string; stuckUs: number }[]): Promise<number> => alertsAfterStuck(tx, this.rules, flagged, this.now());
  afterGroupStatus = (tx: SqlRunner, fingerprint: string, status: string): Promise<number> => alertsAfterGroupStatus(tx, fingerprint, status, this.now());

  // ── the worker ─────────────────────────────────────────────────────────────────────────────

  /** Look for work now (after a commit that wrote events, a finished send, a test delivery). */
  wake(): void {
    if (this.stopped || this.options.worker === false) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    // Commits come in bursts: one round for all of them, a moment later (PGlite has one connection for ingest and this).
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.roundNow();
    }, WAKE_DELAY_MS);
  }

  private roundNow(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.round()
      .catch((err) => {
        const msg = describeForLog(err).split('\n')[0];
        if (msg !== this.lastFailure) console.error(`Alert delivery worker: ${msg} (it keeps trying)`);
        this.lastFailure = msg;
      })
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** One round: evaluate rates when due, dispatch the outbox, start the sends that are due. */
  private async round(): Promise<void> {
    const now = this.now();
    if (now - this.lastRefresh >= (this.options.rulesRefreshMs ?? 2000)) await this.refresh();
    if (now - this.lastEvaluation >= this.config.sweepIntervalMs) {
      this.lastEvaluation = now;
      await evaluateErrorRates(this.store, this.rules, now);
    }
    await dispatchEvents(this.store, this.rules, this.renderContext, now, this.config.deliveryGiveUpMs);
    await this.startSends(now);
    this.lastFailure = '';
  }

  private async startSends(now: number): Promise<void> {
    const max = this.options.maxInFlight ?? 4;
    while (this.inFlight.size < max && !this.stopped) {
      const claimed = await claimDelivery(this.store, now, this.config.deliveryTimeoutMs + LEASE_MARGIN_MS);
      if (!claimed) return;
      const p: Promise<void> = this.send(claimed).finally(() => {
        this.inFlight.delete(p);
        this.wake();
      });
      this.inFlight.add(p);
    }
  }

  private async send(c: Claimed): Promise<void> {
    const outcome = await attemptDelivery(c, this.now(), {
      timeoutMs: this.config.deliveryTimeoutMs,
      userAgent: 'Faultline-Alerts/1',
      fetch: this.options.fetch,
    });
    const recorded = await recordOutcome(this.store, c, outcome, this.now(), this.options.backoff ?? DEFAULT_BACKOFF);
    if (recorded === 'sent') this.counters.sent++;
    else if (recorded === 'retrying') this.counters.retried++;
    else {
      this.counters.failed++;
      // No URL here: it may be the credential (Slack); the delivery log has the rest.
      console.error(`Alert delivery ${c.id} to "${c.destination.name}" failed for good after ${c.attempts} attempt(s): ${outcome.result === 'sent' ? '' : outcome.error}`);
    }
  }

  /** One full round, waiting for its sends (and any they lead to) to finish. For tests and `send test`. */
  async runOnce(): Promise<void> {
    this.lastRefresh = -Infinity;
    this.lastEvaluation = -Infinity;
    while (this.ticking) await this.ticking;
    await this.round();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    while (this.ticking) await this.ticking;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
