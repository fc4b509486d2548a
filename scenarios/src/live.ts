/**
 * The collector's live stream (GET /api/stream) as a dashboard tab sees it: scenario runs detect
 * a failure when the pushed session shows it, instead of polling the API many times a second
 * (13 scenarios polling would load the collector they measure). The collector writes one JSON
 * object per `data:` line, so a line-based reader is enough.
 */
import type { Session, StreamEvent } from '@faultline/schema';

type Waiter = { id: string; accept: (s: Session) => boolean; resolve: (s: Session | null) => void; timer: ReturnType<typeof setTimeout> };

export class LiveSessions {
  private readonly latest = new Map<string, Session>();
  private readonly waiters = new Set<Waiter>();
  private readonly abort = new AbortController();
  private reading: Promise<void> = Promise.resolve();
  /** Set when the stream ended before close(): callers fall back to reading the API. */
  ended = false;

  static async connect(url: string, token?: string): Promise<LiveSessions> {
    const live = new LiveSessions();
    const res = await fetch(`${url.replace(/\/+$/, '')}/api/stream`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: live.abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`GET /api/stream answered ${res.status}`);
    let hello: () => void = () => {};
    const greeted = new Promise<void>((resolve) => (hello = resolve));
    live.reading = live.read(res.body, hello);
    await greeted;
    return live;
  }

  /** The last pushed state of a session, if any event about it arrived. */
  get(id: string): Session | undefined {
    return this.latest.get(id);
  }

  /** Resolves with the session once a pushed version satisfies `accept`, or null after `timeoutMs`. */
  waitFor(id: string, accept: (s: Session) => boolean, timeoutMs: number): Promise<Session | null> {
    const known = this.latest.get(id);
    if (known && accept(known)) return Promise.resolve(known);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        id,
        accept,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(null);
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.reading.catch(() => {});
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(null);
    }
    this.waiters.clear();
  }

  private async read(body: ReadableStream<Uint8Array>, hello: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value: chunk } = await reader.read();
        if (done) break;
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: ?(.*)$/m.exec(frame)?.[1];
          const data = /^data: ?(.*)$/m.exec(frame)?.[1];
          if (event === 'hello') hello();
          else if ((event === 'session' || event === 'stuck') && data) this.onSession((JSON.parse(data) as Extract<StreamEvent, { session: Session }>).session);
        }
      }
    } catch {
      // aborted by close(), or the collector went away
    } finally {
      this.ended = true;
      hello();
    }
  }

  private onSession(session: Session): void {
    this.latest.set(session.id, session);
    for (const w of this.waiters) {
      if (w.id === session.id && w.accept(session)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(session);
      }
    }
  }
}
