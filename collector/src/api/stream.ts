/**
 * GET /api/stream — Server-Sent Events for live viewers, named by STREAM_EVENT_TYPES in the
 * contract: `session` (a session changed), `occurrence` (an error was recorded), `stuck` (the
 * watchdog flagged a session), `scenario`; and the stream's own `hello` (first on every
 * connection) and `reset` (refetch: events may have been missed). No event is named `error`:
 * a browser's EventSource hands that name to `onerror`, which reads as a lost connection.
 *
 * Every event has an `id:`; a viewer that reconnects with `Last-Event-ID` (header, or the
 * `lastEventId` parameter for clients that open a new EventSource, which cannot set headers) gets
 * what it missed from the collector's replay buffer, or `reset` when that is no longer possible
 * (see StreamHub). A comment every 15 s keeps proxies from closing an idle stream.
 *
 * Publishers never wait for viewers: each viewer has its own byte-bounded queue and a viewer that
 * falls behind it is dropped alone. Beyond FAULTLINE_MAX_SSE_VIEWERS viewers: 503 + Retry-After.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { CollectorDeps } from '../deps.ts';
import type { EventBus } from '../events.ts';
import type { StreamTickets } from '../auth.ts';
import { existingStreamHub, streamHub, type StreamHub } from '../stream-hub.ts';
import { StreamTicketRequestShape, StreamTicketShape, type ApiError } from '@faultline/schema/api';
import { valid } from './params.ts';

export const PING_MS = 15_000;
export const DEFAULT_SSE_REPLAY = 1000;
export const DEFAULT_MAX_SSE_VIEWERS = 200;
export const DEFAULT_SSE_VIEWER_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long a viewer turned away for the viewer limit is asked to wait. */
export const VIEWERS_RETRY_AFTER_S = 10;

/** Live viewers connected to this collector's event bus, for /metrics. */
export function sseClientCount(events: EventBus): number {
  return existingStreamHub(events)?.viewerCount ?? 0;
}

/** Viewers dropped for not reading, for /metrics. */
export function sseDroppedCount(events: EventBus): number {
  return existingStreamHub(events)?.dropped ?? 0;
}

/** The collector's stream hub with its configured limits. */
export function hubOf({ events, config }: Pick<CollectorDeps, 'events'> & { config?: Partial<CollectorDeps['config']> }): StreamHub {
  return streamHub(events, {
    replay: config?.sseReplay ?? DEFAULT_SSE_REPLAY,
    viewerBufferBytes: config?.sseViewerBufferBytes ?? DEFAULT_SSE_VIEWER_BUFFER_BYTES,
  });
}

export function streamRoutes(deps: CollectorDeps, options: { pingMs?: number } = {}) {
  const { events } = deps;
  const pingMs = options.pingMs ?? PING_MS;
  const maxViewers = deps.config?.maxSseViewers ?? DEFAULT_MAX_SSE_VIEWERS;
  const hub = hubOf(deps);

  return new Hono().get('/', (c) => {
    if (hub.viewerCount >= maxViewers) {
      c.header('retry-after', String(VIEWERS_RETRY_AFTER_S));
      const body: ApiError = {
        error: {
          code: 'too_many_viewers',
          message: `This collector already serves ${maxViewers} live viewers (FAULTLINE_MAX_SSE_VIEWERS); try again in ${VIEWERS_RETRY_AFTER_S} s, or close dashboard tabs nobody watches.`,
          requestId: String(c.get('requestId' as never) ?? ''),
        },
      };
      return c.json(body, 503);
    }
    const lastEventId = c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? null;
    return streamSSE(c, async (stream) => {
      const { viewer, first } = hub.attach(lastEventId || null, () => {
        // Dropped (not reading) or shut down: aborting also releases a write stuck on it.
        stream.abort();
      });
      const offClose = events.onClose(() => viewer.close());
      stream.onAbort(() => viewer.close());
      c.req.raw.signal.addEventListener('abort', () => viewer.close(), { once: true });
      const ping = setInterval(() => {
        void stream.write(': ping\n\n');
      }, pingMs);
      try {
        await stream.write(first);
        while (!viewer.closed) {
          await viewer.wait();
          if (viewer.closed) break;
          await stream.write(viewer.take());
        }
      } finally {
        clearInterval(ping);
        offClose();
        viewer.close();
      }
    });
  });
}

/**
 * POST /api/stream/tickets — a ticket for opening the stream with EventSource, which cannot
 * send the Authorization header this call needs (see StreamTickets).
 */
export function streamTicketRoutes(tickets: StreamTickets) {
  return new Hono().post('/', valid('json', StreamTicketRequestShape), (c) => c.json(StreamTicketShape.parse(tickets.issue()), 201));
}
