/**
 * The live stream's fan-out (GET /api/stream): one per collector process, in front of the EventBus.
 *
 * - Every event is serialized once into an SSE frame (`id:`, `event:`, `data:`) and the same string
 *   is queued for every viewer: 100 viewers cost 100 socket writes, not 100 JSON.stringify calls.
 * - Ids are `<boot>-<seq>`: `seq` counts up within this process, `boot` is random per process, so
 *   an id from before a restart is never taken for one of ours.
 * - The last `replay` frames are kept; a viewer that reconnects with `Last-Event-ID` inside them gets
 *   exactly what it missed. Outside them (older, a previous process, or across changes made while
 *   nobody listened and so were never serialized) it is told `reset` and refetches once.
 * - Each viewer's queue is bounded in bytes: a viewer that stops reading is dropped alone; the
 *   others and the publishers never wait for it. The frames are shared, so memory is one copy of
 *   each frame however many viewers hold it.
 */
import { randomBytes } from 'node:crypto';
import type { StreamEvent } from '@faultline/schema';
import type { StreamHello, StreamReset } from '@faultline/schema/api';
import type { EventBus } from './events.ts';

export interface StreamHubOptions {
  /** Frames kept for Last-Event-ID resume. */
  replay: number;
  /** Bytes one viewer may have queued before it is dropped. */
  viewerBufferBytes: number;
  /** After the last viewer leaves, keep recording this long so it can still resume (default 60 s). */
  lingerMs?: number;
}

export interface Viewer {
  /** Frames waiting to be written, oldest first, as one chunk. */
  take(): Uint8Array;
  /** Resolves when there is something to write or the viewer is closed. */
  wait(): Promise<void>;
  readonly closed: boolean;
  close(): void;
}

const encoder = new TextEncoder();

class ViewerQueue implements Viewer {
  private frames: Uint8Array[] = [];
  private bytes = 0;
  private wake: (() => void) | null = null;
  closed = false;
  /** Dropped for falling more than its buffer behind. */
  overflowed = false;

  constructor(
    private readonly limit: number,
    private readonly onClose: (v: ViewerQueue) => void,
  ) {}

  push(frame: Uint8Array): void {
    if (this.closed) return;
    this.frames.push(frame);
    this.bytes += frame.length;
    if (this.bytes > this.limit) {
      // Not reading: cut it loose rather than grow the collector's memory.
      this.overflowed = true;
      this.close();
      return;
    }
    this.poke();
  }

  take(): Uint8Array {
    const chunk = this.frames.length === 1 ? this.frames[0] : Buffer.concat(this.frames);
    this.frames = [];
    this.bytes = 0;
    return chunk;
  }

  wait(): Promise<void> {
    if (this.closed || this.frames.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frames = [];
    this.bytes = 0;
    this.onClose(this);
    this.poke();
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

const sse = (event: string, data: unknown, id?: string) => `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export class StreamHub {
  readonly boot = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  private seq = 0;
  /** No resume from before this seq: changes after it were never serialized. */
  private gapAt = 0;
  private seenUnobserved: number;
  private readonly ring: ({ seq: number; frame: Uint8Array } | undefined)[];
  private ringNext = 0;
  private readonly viewers = new Set<ViewerQueue>();
  private unsubscribe: (() => void) | null = null;
  private linger: ReturnType<typeof setTimeout> | null = null;
  /** Viewers dropped for not reading (for /metrics and tests). */
  dropped = 0;

  constructor(
    private readonly events: EventBus,
    private readonly options: StreamHubOptions,
  ) {
    this.ring = new Array(Math.max(0, options.replay));
    this.seenUnobserved = events.unobserved;
    events.onClose(() => this.closeAll());
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** The id of the newest change: an API answer made now is at least this new. */
  position(): string {
    this.noteUnobserved();
    return `${this.boot}-${this.seq}`;
  }

  /**
   * A new viewer. `lastEventId` (from the Last-Event-ID header or the dashboard's `lastEventId`
   * parameter): resume after it if every later frame is still here, otherwise say `reset`.
   * Returns the first frames to write (hello, then the replay or the reset).
   */
  attach(lastEventId: string | null, onClose: () => void): { viewer: Viewer; first: Uint8Array | string } {
    const viewer = new ViewerQueue(this.options.viewerBufferBytes, (v) => {
      this.detach(v);
      onClose();
    });
    this.viewers.add(viewer);
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    if (!this.unsubscribe) this.unsubscribe = this.events.subscribe((event) => this.publish(event));
    const now = this.position();
    const serverTime = new Date().toISOString();
    if (lastEventId === null) return { viewer, first: sse('hello', { serverTime, resumed: false } satisfies StreamHello, now) };
    const missed = this.since(lastEventId);
    if (Array.isArray(missed)) {
      // No id on hello: the viewer's last id stays its own until the replayed frames move it on.
      return { viewer, first: Buffer.concat([encoder.encode(sse('hello', { serverTime, resumed: true } satisfies StreamHello)), ...missed]) };
    }
    return { viewer, first: sse('hello', { serverTime, resumed: false } satisfies StreamHello, now) + sse('reset', missed) };
  }

  /** Tell every viewer to refetch (a burst too large to send one by one, changes that could not be loaded). */
  broadcastReset(reset: StreamReset): void {
    this.record('reset', reset);
  }

  /** End every viewer's connection but keep recording, so each can reconnect and resume (tests, operators). */
  disconnectAll(): void {
    for (const v of [...this.viewers]) v.close();
  }

  /** Drop every viewer and stop recording (collector shutdown). */
  closeAll(): void {
    for (const v of [...this.viewers]) v.close();
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private publish(event: StreamEvent): void {
    this.record(event.type, event);
  }

  private record(type: string, data: unknown): void {
    this.noteUnobserved();
    this.seq += 1;
    // Encoded once: every viewer's socket gets the same bytes.
    const frame = encoder.encode(sse(type, data, `${this.boot}-${this.seq}`));
    if (this.ring.length > 0) {
      this.ring[this.ringNext] = { seq: this.seq, frame };
      this.ringNext = (this.ringNext + 1) % this.ring.length;
    }
    for (const v of this.viewers) v.push(frame);
  }

  /** Changes made while the hub was not subscribed were never serialized: nobody resumes across them. */
  private noteUnobserved(): void {
    const unobserved = this.events.unobserved;
    if (unobserved === this.seenUnobserved) return;
    this.seenUnobserved = unobserved;
    this.seq += 1;
    this.gapAt = this.seq;
  }

  private since(lastEventId: string): Uint8Array[] | StreamReset {
    const match = /^([A-Za-z0-9]+)-(\d{1,15})$/.exec(lastEventId.trim());
    if (!match) return { reason: 'unknown-id', message: `"${lastEventId.slice(0, 64)}" is not an id this stream sent; refetch.` };
    if (match[1] !== this.boot) return { reason: 'restarted', message: 'The collector restarted since this viewer last heard from it; refetch.' };
    const after = Number(match[2]);
    if (after > this.seq) return { reason: 'unknown-id', message: `Event ${lastEventId} was never sent; refetch.` };
    if (after < this.gapAt) return { reason: 'too-old', message: 'Changes were made while no viewer was connected; refetch.' };
    const frames = this.ring
      .filter((e): e is { seq: number; frame: Uint8Array } => e !== undefined && e.seq > after)
      .sort((a, b) => a.seq - b.seq);
    // Every frame after `after` must still be here: seqs are consecutive from gapAt on.
    if (frames.length !== this.seq - after) {
      return { reason: 'too-old', message: `More than the last ${this.ring.length} events were missed; refetch.` };
    }
    return frames.map((e) => e.frame);
  }

  private detach(viewer: ViewerQueue): void {
    if (!this.viewers.delete(viewer)) return;
    if (viewer.overflowed) this.dropped += 1;
    if (this.viewers.size > 0 || this.linger) return;
    // A lone dashboard whose connection dropped reconnects within seconds: keep recording for it.
    // Then stop, so a collector nobody watches loads and serializes nothing for the stream.
    this.linger = setTimeout(() => {
      this.linger = null;
      if (this.viewers.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = null;
    }, this.options.lingerMs ?? 60_000);
    this.linger.unref?.();
  }
}

const hubs = new WeakMap<EventBus, StreamHub>();

/** The hub of a collector's event bus, made on first use with the collector's settings. */
export function streamHub(events: EventBus, options: StreamHubOptions): StreamHub {
  let hub = hubs.get(events);
  if (!hub) {
    hub = new StreamHub(events, options);
    hubs.set(events, hub);
  }
  return hub;
}

/** The hub if one exists (for /metrics). */
export function existingStreamHub(events: EventBus): StreamHub | undefined {
  return hubs.get(events);
}
