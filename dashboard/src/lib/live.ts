/**
 * Live updates over Server-Sent Events (GET /api/stream). One connection for the whole app;
 * views subscribe to the event types they care about. EventSource gives up for good on an
 * HTTP error (e.g. 401), so reconnection is ours: exponential backoff with jitter, capped.
 * EventSource cannot send the Authorization header and the token never goes in a URL, so with
 * a token each connection first asks for a short-lived, single-use stream ticket.
 *
 * No loss across a reconnect: every event carries an id, and our own reconnect opens a new
 * EventSource, which (unlike the browser's automatic retry) sends no Last-Event-ID header, so the
 * last id goes in the `lastEventId` parameter; the collector replays what was missed. Views
 * refetch (`resync`) only when events may really have been missed: the collector says `reset`,
 * or data fetched before the stream opened is older than the stream's first position (every API
 * answer carries its position). A page load therefore fetches once, not once more on open.
 */
import { get, writable, type Readable } from 'svelte/store';
import type { StreamEvent } from '@faultline/schema';
import { STREAM_EVENT_TYPES, type StreamEventType, type StreamHello } from '@faultline/schema/api';
import { api, onStreamPosition, token } from './api.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';
export type StreamType = StreamEventType;
/** The contract's list: a type the collector adds reaches the views without an edit here. */
export const STREAM_TYPES: readonly StreamType[] = STREAM_EVENT_TYPES;

/** `resync`: events may have been missed (see above), so views refetch. */
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
  /** Where API answers report their stream position (tests replace it). */
  positions?: (fn: (position: string) => void) => void;
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

/** `<boot>-<seq>` → its parts; null for anything else. */
function parsePosition(id: string): { boot: string; seq: number } | null {
  const m = /^([A-Za-z0-9]+)-(\d+)$/.exec(id);
  return m ? { boot: m[1], seq: Number(m[2]) } : null;
}

/** Whether data at `data` may lack changes the stream will not deliver after `stream`. */
function olderThan(data: string, stream: string): boolean {
  const a = parsePosition(data);
  const b = parsePosition(stream);
  return !a || !b || a.boot !== b.boot || a.seq < b.seq;
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
  /** The id of the last event received: a reconnect resumes after it. */
  let lastEventId: string | null = null;
  /** Where the current connection started delivering events; null until its hello. */
  let streamFrom: string | null = null;
  /** Positions of API answers received while no connection was delivering events. */
  let unsynced: string[] = [];
  const fetchTicket = options.ticket ?? (async () => (await api.streamTicket()).ticket);

  (options.positions ?? onStreamPosition)((position) => {
    if (streamFrom === null) {
      if (unsynced.length < 100) unsynced.push(position);
    } else if (olderThan(position, streamFrom)) {
      // Answered before the stream's start reached it (a slow request): it may lack a change.
      emit({ type: 'resync' });
    }
  });

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

  function noteId(message: MessageEvent): void {
    if (message.lastEventId) lastEventId = message.lastEventId;
  }

  function onMessage(this: EventSource, message: MessageEvent): void {
    noteId(message);
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

  function onHello(message: MessageEvent): void {
    noteId(message);
    let hello: StreamHello;
    try {
      hello = JSON.parse(message.data) as StreamHello;
    } catch {
      return;
    }
    const before = unsynced;
    unsynced = [];
    streamFrom = lastEventId;
    // Resumed: the missed events follow. Otherwise, anything fetched before now may be stale.
    if (!hello.resumed && streamFrom !== null && before.some((p) => olderThan(p, streamFrom!))) emit({ type: 'resync' });
  }

  function onReset(message: MessageEvent): void {
    noteId(message);
    emit({ type: 'resync' });
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
    const params = new URLSearchParams();
    if (lastEventId) params.set('lastEventId', lastEventId);
    const target = (extra: URLSearchParams) => {
      const query = new URLSearchParams([...params, ...extra]).toString();
      return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
    };
    if (get(token) === null) {
      open(Impl, target(new URLSearchParams()));
      return;
    }
    fetchTicket().then(
      (ticket) => {
        if (running && mine === attempt) open(Impl, target(new URLSearchParams({ ticket })));
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
    };
    for (const type of STREAM_TYPES) es.addEventListener(type, onMessage as EventListener);
    es.addEventListener('hello', onHello as EventListener);
    es.addEventListener('reset', onReset as EventListener);
    es.onmessage = onMessage;
    es.onerror = () => {
      if (source !== es) return;
      es.close();
      source = null;
      streamFrom = null;
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
    streamFrom = null;
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
