/**
 * What the query routes share: validation of every input with the contract's zod shapes (a bad
 * value is a 400 naming the parameter, through app.onError), the keyset cursor in SQL, and pages.
 * The shapes themselves, the cursor format and the windows live in @faultline/schema/api.
 */
import { zValidator } from '@hono/zod-validator';
import { sql, type AnyColumn } from 'drizzle-orm';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { encodeCursor, type Cursor } from '@faultline/schema/api';
import { FaultlineError } from '../errors.ts';

/** `path: problem; path: problem` — what the 400's message says. */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, target = 'input'): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || target}: ${i.message}`).join('; ');
}

/**
 * Validates one part of the request (`query`, `param`, `json`) with a contract shape; the route
 * reads the parsed value with `c.req.valid(target)`, and the typed client learns the input.
 */
export const valid = <T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) =>
  zValidator(target, schema, (result) => {
    if (!result.success) throw new FaultlineError('invalid_request', 400, describeIssues(result.error, target));
  });

/**
 * Goes before `valid('json', …)`: a body that is not JSON, or JSON sent without saying so (which
 * the validator would read as `{}`), is a 400 that shows what to send. No body at all passes, so
 * a shape's defaults apply.
 */
export function jsonBody(example: string): MiddlewareHandler {
  return async (c, next) => {
    const text = await c.req.text();
    if (text.trim() === '') return next();
    try {
      JSON.parse(text);
    } catch {
      throw new FaultlineError('invalid_request', 400, `The request body must be JSON, for example ${example}.`);
    }
    if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
      throw new FaultlineError('invalid_request', 400, `Send the JSON body with Content-Type: application/json, for example ${example}.`);
    }
    return next();
  };
}

/** A timestamptz column rendered as cursor text (UTC, microseconds). */
export const cursorTime = (column: AnyColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly after the cursor in (time desc, id desc) order. The first conjunct lets any (…, time) index bound the scan. */
export const afterCursor = (time: AnyColumn, id: AnyColumn, c: Cursor) =>
  sql`(${time} <= ${c.t}::timestamptz and (${time}, ${id}) < (${c.t}::timestamptz, ${c.id}))`;

/** Rows fetched with `limit + 1` → one page; the extra row only tells that there is a next page. */
export function pageOf<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => Cursor): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(cursorOf(kept[kept.length - 1])) : null };
}
