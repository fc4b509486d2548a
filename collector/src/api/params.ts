/**
 * What the query routes share: zod schemas for query parameters (a bad value is a 400 naming the
 * parameter, through app.onError), the opaque keyset cursor, and the time windows.
 */
import { sql, type AnyColumn } from 'drizzle-orm';
import { z } from 'zod';
import { FaultlineError } from '../errors.ts';

/** Parse `c.req.query()` with a zod object; ZodError → 400 with `<param>: <problem>`. */
export function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.infer<T> {
  return schema.parse(query);
}

export const limitParam = (def: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(max, { error: `must be at most ${max}` })
    .default(def);

export const trueFlag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

/** A free-text filter value: trimmed, bounded, empty means "not given". */
export const textParam = (max = 256) =>
  z
    .string()
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .transform((v) => (v === '' ? undefined : v))
    .optional();

/**
 * Keyset position: the sort time as Postgres text at microsecond precision (a JS Date would
 * lose the microseconds and repeat or skip rows at a page boundary) and the row id.
 */
export interface Cursor {
  t: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.t, c.id]), 'utf8').toString('base64url');
}

const CURSOR_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;

export const cursorParam = z
  .string()
  .max(2048, { error: 'is not a cursor from this API' })
  .transform((raw, ctx): Cursor | undefined => {
    if (raw === '') return undefined;
    try {
      const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && CURSOR_TIME.test(v[0]) && typeof v[1] === 'string') {
        return { t: v[0], id: v[1] };
      }
    } catch {
      // fall through to the issue below
    }
    ctx.addIssue({ code: 'custom', message: 'is not a cursor from this API; pass the nextCursor of the previous page' });
    return z.NEVER;
  })
  .optional();

/** A timestamptz column rendered as cursor text (UTC, microseconds). */
export const cursorTime = (column: AnyColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly after the cursor in (time desc, id desc) order. The first conjunct lets any (…, time) index bound the scan. */
export const afterCursor = (time: AnyColumn, id: AnyColumn, c: Cursor) =>
  sql`(${time} <= ${c.t}::timestamptz and (${time}, ${id}) < (${c.t}::timestamptz, ${c.id}))`;

/** Windows for counts and charts, with the bucket width that gives 30–50 points on a chart. */
export const WINDOWS = {
  '1h': { ms: 3_600_000, bucketMs: 120_000 },
  '6h': { ms: 6 * 3_600_000, bucketMs: 600_000 },
  '24h': { ms: 24 * 3_600_000, bucketMs: 1_800_000 },
  '7d': { ms: 7 * 24 * 3_600_000, bucketMs: 4 * 3_600_000 },
} as const;
export type WindowName = keyof typeof WINDOWS;

export const windowParam = z
  .enum(Object.keys(WINDOWS) as [WindowName, ...WindowName[]], { error: `must be one of ${Object.keys(WINDOWS).join(', ')}` })
  .default('24h');

/** Read a JSON body; a malformed one is a 400 that shows what to send. */
export async function readJsonBody(req: { json(): Promise<unknown> }, example: string): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new FaultlineError('invalid_request', 400, `The request body must be JSON, for example ${example}.`);
  }
}

/** Rows fetched with `limit + 1` → one page; the extra row only tells that there is a next page. */
export function pageOf<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => Cursor): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { items: kept.map(map), nextCursor: more ? encodeCursor(cursorOf(kept[kept.length - 1])) : null };
}
