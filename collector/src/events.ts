/**
 * In-process fan-out of what changed, for the live stream (SSE) and tests. Publishers do not wait
 * for subscribers; a slow subscriber is its own problem (the SSE route bounds its buffer).
 */
import type { StreamEvent } from '@faultline/schema';

export type Listener = (event: StreamEvent) => void;

export class EventBus {
  private listeners = new Set<Listener>();
  private closers = new Set<() => void>();
  private missed = 0;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  /**
   * Changes nobody was listening for (published to no one, or not even loaded because nobody
   * listened). The live stream compares this count to know a viewer cannot resume across them.
   */
  get unobserved(): number {
    return this.missed;
  }

  /** Something changed while nobody listened, so it was not published. */
  markUnobserved(): void {
    this.missed += 1;
  }

  /** Called when the collector shuts down, so long-lived subscribers (SSE streams) end. */
  onClose(fn: () => void): () => void {
    this.closers.add(fn);
    return () => this.closers.delete(fn);
  }

  close(): void {
    for (const fn of [...this.closers]) fn();
    this.closers.clear();
  }

  publish(event: StreamEvent): void {
    if (this.listeners.size === 0) {
      this.missed += 1;
      return;
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // one broken subscriber must not stop the others
      }
    }
  }
}
