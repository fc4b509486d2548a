/**
 * Live updates over Server-Sent Events (GET /api/stream). One connection for the whole app;
 * views subscribe to the event types they care about. EventSource gives up for good on an
 * HTTP error (e.g. 401), so reconnection is ours: exponential backoff with jitter, capped.
 * EventSource cannot send the Authorization header and the token never goes in a URL, so with
 * a token each connection first asks for a short-lived, single-use stream ticket.
 */
import { get, writable, type Readable } from 'svelte/store';
import type { StreamEvent } from '@faultline/schema';
import { api, token } from './api.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';
export type StreamType = StreamEvent['type'];
export const STREAM_TYPES: readonly StreamType[] = ['session', 'error', 'stuck', 'scenario'];

/** `resync` fires whenever the stream opens: events may have been missed, so views refetch. */
type Listener = (event: StreamEvent | { type: 'resync' }) => void;

export interface LiveOptions {
  url?: string;
  EventSourceImpl?: typeof EventSource;
  /** A stream ticket, fetched with the token (tests replace it). */
  ticket?: () => Promise<string>;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Failed attempts in a row after which the header says "offline" rather than "reconnecting". */
  offlineAfter?: number;
}

export interface Live {
  status: Readable<LiveStatus>;
  /** When the last event arrived (for "last update 3 s ago"). */
  lastEventAt: Readable<number | null>;
  start(): void;
  stop(): void;
  /** Reconnect now, e.g. after the token changed or the browser came back online. */
  restart(): void;
  on(types: readonly (StreamType | 'resync')[], listener: Listener): () => void;
}

export function createLive(options: LiveOptions = {}): Live {
  const url = options.url ?? '/api/stream';
  const minDelay = options.minDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const offlineAfter = options.offlineAfter ?? 4;

  const status = writable<LiveStatus>('offline');
  const lastEventAt = writable<number | null>(null);
  const listeners = new Map<Listener, readonly string[]>();
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let running = false;
  /** Bumped by every connect and close: a ticket that arrives for an older attempt is dropped. */
  let attempt = 0;
  const fetchTicket = options.ticket ?? (async () => (await api.streamTicket()).ticket);

  function emit(event: StreamEvent | { type: 'resync' }): void {
    if (event.type !== 'resync') lastEventAt.set(Date.now());
    for (const [listener, types] of listeners) {
      if (!types.includes(event.type)) continue;
      try {
        listener(event);
      } catch (error) {
        console.error('live listener failed', error);
      }
    }
  }

  function onMessage(this: EventSource, message: MessageEvent): void {
    let data: StreamEvent;
    try {
      data = JSON.parse(message.data) as StreamEvent;
    } catch {
      return; // comments / keep-alives / foreign payloads
    }
    // Named SSE events carry the type in the event name; unnamed ones in the payload.
    const type = (message.type !== 'message' ? message.type : data?.type) as StreamType;
    if (!STREAM_TYPES.includes(type)) return;
    emit({ ...data, type } as StreamEvent);
  }

  function connect(): void {
    timer = null;
    const Impl = options.EventSourceImpl ?? globalThis.EventSource;
    if (!Impl) {
      status.set('offline');
      return;
    }
    status.set(failures === 0 ? 'connecting' : failures >= offlineAfter ? 'offline' : 'reconnecting');
    const mine = ++attempt;
    if (get(token) === null) {
      open(Impl, url);
      return;
    }
    fetchTicket().then(
      (ticket) => {
        if (running && mine === attempt) open(Impl, `${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`);
      },
      () => {
        if (running && mine === attempt) scheduleReconnect();
      },
    );
  }

  function open(Impl: typeof EventSource, target: string): void {
    const es = new Impl(target);
    source = es;
    es.onopen = () => {
      failures = 0;
      status.set('live');
      // Every open, the first included: a view may have fetched before the stream existed, and
      // whatever changed in between (a session flagged stuck, say) would never reach it.
      emit({ type: 'resync' });
    };
    for (const type of STREAM_TYPES) es.addEventListener(type, onMessage as EventListener);
    es.onmessage = onMessage;
    es.onerror = () => {
      if (source !== es) return;
      es.close();
      source = null;
      scheduleReconnect();
    };
  }

  function scheduleReconnect(): void {
    if (!running) return;
    failures += 1;
    const offline = failures >= offlineAfter || globalThis.navigator?.onLine === false;
    status.set(offline ? 'offline' : 'reconnecting');
    const base = Math.min(maxDelay, minDelay * 2 ** (failures - 1));
    const delay = base * (0.8 + Math.random() * 0.4);
    timer = setTimeout(connect, delay);
  }

  function close(): void {
    attempt += 1;
    if (timer) clearTimeout(timer);
    timer = null;
    source?.close();
    source = null;
  }

  const onOnline = () => live.restart();

  const live: Live = {
    status: { subscribe: status.subscribe },
    lastEventAt: { subscribe: lastEventAt.subscribe },
    start() {
      if (running) return;
      running = true;
      globalThis.addEventListener?.('online', onOnline);
      connect();
    },
    stop() {
      running = false;
      globalThis.removeEventListener?.('online', onOnline);
      close();
      status.set('offline');
    },
    restart() {
      if (!running) return;
      close();
      failures = 0;
      connect();
    },
    on(types, listener) {
      listeners.set(listener, types);
      return () => listeners.delete(listener);
    },
  };
  return live;
}

/** The app's connection. */
export const live = createLive();

/**
 * Call `fn` at most once per `ms`, trailing: a burst of 500 error events costs one refetch,
 * and the last event of a burst is never lost.
 */
export function throttle(fn: () => void, ms: number): (() => void) & { cancel(): void } {
  let last = 0;
  let pending: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    pending = null;
    last = Date.now();
    fn();
  };
  const throttled = () => {
    if (pending) return;
    const wait = Math.max(0, last + ms - Date.now());
    pending = setTimeout(run, wait);
  };
  throttled.cancel = () => {
    if (pending) clearTimeout(pending);
    pending = null;
  };
  return throttled;
}
