/**
 * GET /api/stream — Server-Sent Events for live viewers: `session` (a session changed), `error`
 * (an occurrence was recorded), `stuck` (the watchdog flagged a session). Starts with `hello`
 * carrying the server time; a comment every 15 s keeps proxies from closing an idle stream.
 *
 * Publishers never wait for viewers, so each viewer has its own queue; a viewer that falls more
 * than MAX_BEHIND events behind (a stalled tab, a dead network) is dropped rather than allowed
 * to grow the collector's memory. The browser's EventSource reconnects by itself.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { StreamEvent } from '@faultline/schema';
import type { CollectorDeps } from '../deps.ts';
import type { EventBus } from '../events.ts';
import type { StreamTickets } from '../auth.ts';
import { StreamTicketRequestShape, StreamTicketShape } from '@faultline/schema/api';
import { valid } from './params.ts';

export const MAX_BEHIND = 1000;
export const PING_MS = 15_000;

const clients = new WeakMap<EventBus, number>();

/** Live viewers connected to this collector's event bus, for /metrics. */
export function sseClientCount(events: EventBus): number {
  return clients.get(events) ?? 0;
}

export function streamRoutes({ events }: CollectorDeps, options: { pingMs?: number; maxBehind?: number } = {}) {
  const pingMs = options.pingMs ?? PING_MS;
  const maxBehind = options.maxBehind ?? MAX_BEHIND;

  return new Hono().get('/', (c) =>
    streamSSE(c, async (stream) => {
      const queue: StreamEvent[] = [];
      let done = false;
      let wake: (() => void) | null = null;
      const poke = () => {
        wake?.();
        wake = null;
      };
      const finish = () => {
        if (done) return;
        done = true;
        unsubscribe();
        queue.length = 0;
        clients.set(events, sseClientCount(events) - 1);
        poke();
      };
      const unsubscribe = events.subscribe((event) => {
        if (done) return;
        queue.push(event);
        if (queue.length > maxBehind) {
          // The viewer is not reading; cut it loose. Aborting also releases a write stuck on it.
          finish();
          stream.abort();
          return;
        }
        poke();
      });
      clients.set(events, sseClientCount(events) + 1);
      stream.onAbort(finish);
      c.req.raw.signal.addEventListener('abort', finish, { once: true });
      const ping = setInterval(() => {
        void stream.write(': ping\n\n');
      }, pingMs);
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ serverTime: new Date().toISOString() }) });
        while (!done) {
          const event = queue.shift();
          if (event) {
            await stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        clearInterval(ping);
        finish();
      }
    }),
  );
}

/**
 * POST /api/stream/tickets — a ticket for opening the stream with EventSource, which cannot
 * send the Authorization header this call needs (see StreamTickets).
 */
export function streamTicketRoutes(tickets: StreamTickets) {
  return new Hono().post('/', valid('json', StreamTicketRequestShape), (c) => c.json(StreamTicketShape.parse(tickets.issue()), 201));
}
