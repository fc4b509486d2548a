import { live, throttle, type StreamType } from './live.ts';
import type { StreamEvent } from '@faultline/schema';

/**
 * One piece of API data in a view: refetched whenever the reactive values the fetcher reads
 * synchronously (route query, props) change, aborted when superseded, and kept on screen
 * while a refresh is in flight so live updates never blank the page.
 */
export class Resource<T> {
  data = $state<T | null>(null);
  error = $state<unknown>(null);
  loading = $state(true);
  #version = $state(0);

  constructor(fetcher: (signal: AbortSignal) => Promise<T>) {
    $effect(() => {
      void this.#version;
      const controller = new AbortController();
      const promise = fetcher(controller.signal);
      this.loading = true;
      promise.then(
        (value) => {
          if (controller.signal.aborted) return;
          this.data = value;
          this.error = null;
          this.loading = false;
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          this.error = error;
          this.loading = false;
        },
      );
      return () => controller.abort();
    });
  }

  /** Fetch again with the same inputs (retry button, live event). */
  reload = (): void => {
    this.#version += 1;
  };
}


/**
 * Call `refresh` (throttled) when a matching live event arrives, and after a reconnect.
 * Must be called while a component initialises.
 */
export function refreshOnLive(
  types: readonly StreamType[],
  refresh: () => void,
  { ms = 2_000, when }: { ms?: number; when?: (event: StreamEvent) => boolean } = {},
): void {
  $effect(() => {
    const throttled = throttle(refresh, ms);
    const off = live.on([...types, 'resync'], (event) => {
      if (event.type === 'resync' || !when || when(event)) throttled();
    });
    return () => {
      off();
      throttled.cancel();
    };
  });
}
