/** Ingest keys and the API token (DESIGN §9). Compared in constant time. */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { FaultlineError } from './errors.ts';

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function bearer(header: string | undefined): string | null {
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

/** `Authorization: Bearer <key>` or `x-faultline-key: <key>`, one of FAULTLINE_INGEST_KEYS. */
export function requireIngestKey(keys: string[]): MiddlewareHandler {
  return async (c, next) => {
    const problem = ingestKeyProblem(keys, c.req.header('authorization'), c.req.header('x-faultline-key'));
    if (problem !== null) throw new FaultlineError('unauthorized', 401, problem);
    return next();
  };
}

/** `Authorization: Bearer <token>`, or `?token=` for EventSource which cannot set headers. */
export function requireApiToken(token: string | null): MiddlewareHandler {
  return async (c, next) => {
    if (!token) return next();
    const given = bearer(c.req.header('authorization')) ?? c.req.query('token') ?? null;
    if (!given || !safeEqual(token, given)) {
      throw new FaultlineError('unauthorized', 401, given ? 'The API token is not valid.' : 'This collector requires an API token: send Authorization: Bearer <token>.');
    }
    return next();
  };
}
