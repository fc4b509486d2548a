/**
 * What ingest changed, turned into live-stream events at most once per window: a session written
 * ten times in 250 ms is sent once, in its latest state (loaded when the window closes), and the
 * database is asked once per window instead of once per write batch. A window touching more than
 * `burst` sessions and occurrences is not sent one by one: viewers are told `reset` and refetch
 * once, so one huge request never floods or disconnects them.
 */
import type { ErrorOccurrence, Session } from '@faultline/schema';
import type { StreamReset } from '@faultline/schema/api';
import type { EventBus } from './events.ts';

export const DEFAULT_COALESCE_MS = 250;
export const DEFAULT_BURST = 1000;

export interface LiveChangesOptions {
  windowMs?: number;
  burst?: number;
  loadErrors(ids: string[]): Promise<ErrorOccurrence[]>;
  loadSessions(ids: string[]): Promise<Session[]>;
  reset(reset: StreamReset): void;
}

export class LiveChanges {
  private errorIds: string[] = [];
  private sessionIds = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private readonly windowMs: number;
  private readonly burst: number;

  constructor(
    private readonly events: EventBus,
    private readonly options: LiveChangesOptions,
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_COALESCE_MS;
    this.burst = options.burst ?? DEFAULT_BURST;
  }

  add(errorIds: readonly string[], sessionIds: readonly string[]): void {
    if (errorIds.length === 0 && sessionIds.length === 0) return;
    if (this.events.size === 0) {
      // Nobody listens: nothing is loaded, but a viewer must not resume across this change.
      this.events.markUnobserved();
      return;
    }
    for (const id of errorIds) this.errorIds.push(id);
    for (const id of sessionIds) this.sessionIds.add(id);
    this.schedule();
  }

  /** Send what is pending now (shutdown, tests). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.flushing) await this.flushing;
    if (this.errorIds.length === 0 && this.sessionIds.size === 0) return;
    this.flushing = this.send().finally(() => {
      this.flushing = null;
      if (!this.closed && (this.errorIds.length > 0 || this.sessionIds.size > 0)) this.schedule();
    });
    await this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing) await this.flushing;
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.windowMs);
  }

  private async send(): Promise<void> {
    const errorIds = this.errorIds;
    const sessionIds = [...this.sessionIds];
    this.errorIds = [];
    this.sessionIds = new Set();
    if (this.events.size === 0) {
      this.events.markUnobserved();
      return;
    }
    if (errorIds.length + sessionIds.length > this.burst) {
      this.options.reset({
        reason: 'burst',
        message: `${errorIds.length} errors and ${sessionIds.length} sessions changed at once; refetch instead of receiving them one by one.`,
      });
      return;
    }
    try {
      for (const occurrence of await this.options.loadErrors(errorIds)) this.events.publish({ type: 'occurrence', occurrence });
      for (const session of await this.options.loadSessions(sessionIds)) this.events.publish({ type: 'session', session });
    } catch {
      // The database did not answer (an outage): viewers cannot be sent these changes; say so.
      this.options.reset({ reason: 'incomplete', message: 'Some changes could not be loaded for the live stream; refetch.' });
    }
  }
}
