/**
 * Ingest keys, the API token and live-stream tickets (DESIGN §9). Compared in constant time.
 * Credentials travel only in headers: a URL ends up in proxy logs, browser history and Referer.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { FaultlineError } from './errors.ts';

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function bearer(header: string | undefined): string | null {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  return m ? m[1].trim() : null;
}

/**
 * Why an ingest request may not come in, or null when it may: `Authorization: Bearer <key>` or
 * `x-faultline-key: <key>` (HTTP headers or gRPC metadata), one of FAULTLINE_INGEST_KEYS.
 */
export function ingestKeyProblem(keys: string[], authorization: string | undefined, faultlineKey: string | undefined): string | null {
  if (keys.length === 0) return null;
  const given = bearer(authorization) ?? faultlineKey ?? null;
  if (given && keys.some((k) => safeEqual(k, given))) return null;
  return given ? 'The ingest key is not valid for this collector.' : 'This collector requires an ingest key: send Authorization: Bearer <key> or x-faultline-key.';
}

/** Whether the request carries one of the ingest keys. */
export function hasIngestKey(c: Context, keys: string[]): boolean {
  const given = bearer(c.req.header('authorization')) ?? c.req.header('x-faultline-key') ?? null;
  return given !== null && keys.some((k) => safeEqual(k, given));
}

/** `Authorization: Bearer <key>` or `x-faultline-key: <key>`, one of FAULTLINE_INGEST_KEYS. */
export function requireIngestKey(keys: string[]): MiddlewareHandler {
  return async (c, next) => {
    const problem = ingestKeyProblem(keys, c.req.header('authorization'), c.req.header('x-faultline-key'));
    if (problem !== null) throw new FaultlineError('unauthorized', 401, problem);
    return next();
  };
}

/** Whether the request carries the API token (`Authorization: Bearer`). */
export function hasApiToken(c: Context, token: string | null): boolean {
  const given = bearer(c.req.header('authorization'));
  return token !== null && given !== null && safeEqual(token, given);
}

/**
 * `Authorization: Bearer <token>` — never a query parameter. The one exception is the live
 * stream, which a browser's EventSource opens without headers: it takes a stream ticket.
 */
export function requireApiToken(token: string | null, tickets?: StreamTickets): MiddlewareHandler {
  return async (c, next) => {
    if (!token) return next();
    const ticket = c.req.query('ticket');
    if (tickets && ticket !== undefined && c.req.method === 'GET' && c.req.path === '/api/stream') {
      if (tickets.redeem(ticket)) return next();
      throw new FaultlineError('unauthorized', 401, 'The stream ticket is not valid, expired or already used: ask POST /api/stream/tickets for a new one.');
    }
    const given = bearer(c.req.header('authorization'));
    if (!given || !safeEqual(token, given)) {
      throw new FaultlineError('unauthorized', 401, given ? 'The API token is not valid.' : 'This collector requires an API token: send Authorization: Bearer <token>.');
    }
    return next();
  };
}

/**
 * Short-lived, single-use tickets for the live stream (GET /api/stream?ticket=…), obtained with
 * the token in the Authorization header (POST /api/stream/tickets). A ticket is
 * `<expiry>.<nonce>.<HMAC-SHA256 of both, keyed by the API token>`: collectors sharing a token
 * accept each other's tickets without shared state; each remembers the nonces it has redeemed
 * until they expire, so a ticket opens one stream per collector ("single-use-ish"). A ticket
 * grants reading the stream for TTL_MS and nothing else, and is not the token.
 */
export class StreamTickets {
  static readonly TTL_MS = 30_000;
  private readonly key: Buffer;
  private readonly used = new Map<string, number>();

  constructor(
    token: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.key = token ? Buffer.from(`faultline stream ticket\u0000${token}`) : randomBytes(32);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(): { ticket: string; expiresAt: string } {
    const expires = this.now() + StreamTickets.TTL_MS;
    const payload = `${expires.toString(36)}.${randomBytes(16).toString('base64url')}`;
    return { ticket: `${payload}.${this.sign(payload)}`, expiresAt: new Date(expires).toISOString() };
  }

  redeem(ticket: string): boolean {
    const now = this.now();
    for (const [nonce, expires] of this.used) if (expires < now) this.used.delete(nonce);
    const parts = ticket.split('.');
    if (parts.length !== 3) return false;
    const [exp, nonce, mac] = parts;
    if (!safeEqual(this.sign(`${exp}.${nonce}`), mac)) return false;
    const expires = parseInt(exp, 36);
    if (!Number.isFinite(expires) || expires < now || this.used.has(nonce)) return false;
    this.used.set(nonce, expires);
    return true;
  }
}
