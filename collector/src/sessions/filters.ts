/**
 * The list filters as SQL, written once: `GET /api/sessions` and `GET /api/errors` page with them,
 * and the Overview counts its cards with the same conditions (cardQuery in the contract), so a
 * card's number is the `total` of the list its link opens.
 */
import { and, count, eq, gte, inArray, isNotNull, like, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { LIST_TOTAL_CAP, TEST_DATA_SERVICES, WINDOWS, hidesTestData, isTraceIdQuery, type SessionFilter, type WindowName } from '@faultline/schema';
import { errors, sessions, spans } from '../store/tables/index.ts';
import type { Db } from '../store/db.ts';
import { activeSession, failedSession, notFailedSession } from './rows.ts';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

export const windowStart = (window: WindowName, now = Date.now()) => new Date(now - WINDOWS[window].ms);

export function sessionConditions(db: Db, p: SessionFilter, now = Date.now()): SQL[] {
  const where: SQL[] = [];
  if (hidesTestData(p)) where.push(notInArray(sessions.service, [...TEST_DATA_SERVICES]));
  if (p.window) where.push(gte(sessions.lastSeenAt, windowStart(p.window, now)));
  if (p.state) where.push(eq(sessions.state, p.state));
  if (p.failed === true) where.push(failedSession);
  if (p.failed === false) where.push(notFailedSession);
  if (p.active === true) where.push(activeSession);
  if (p.active === false) where.push(sql`not coalesce(${activeSession}, false)`);
  if (p.stuck !== undefined) where.push(eq(sessions.stuck, p.stuck));
  if (p.service) where.push(eq(sessions.service, p.service));
  // Sessions that hit the code at any time in retention, not only those whose last error it is.
  if (p.code) {
    where.push(inArray(sessions.id, db.select({ id: sql<string>`${errors.sessionId}` }).from(errors).where(eq(errors.code, p.code))));
  }
  if (p.q) {
    const byId = like(sessions.id, `${escapeLike(p.q)}%`);
    if (isTraceIdQuery(p.q)) {
      const trace = p.q.toLowerCase();
      where.push(
        or(
          byId,
          eq(sessions.lastTraceId, trace),
          // Any span of the trace (spans' primary key starts with trace_id).
          inArray(sessions.id, db.select({ id: sql<string>`${spans.sessionId}` }).from(spans).where(eq(spans.traceId, trace))),
        )!,
      );
    } else where.push(byId);
  }
  return where;
}

export interface ErrorFilter {
  code?: string;
  category?: string;
  session?: string;
  fingerprint?: string;
  window?: WindowName;
  /** Only timeouts: an occurrence with a timeout kind, whatever its category (the Timeouts chart's definition). */
  timeout?: boolean;
  includeTest?: boolean;
}

/** Asking for one session or one group shows it whatever it is; otherwise test and demo data stay out unless included. */
export const errorsHideTestData = (p: ErrorFilter) => p.includeTest !== true && !p.session && !p.fingerprint;

export function errorConditions(p: ErrorFilter, now = Date.now()): SQL[] {
  const where: SQL[] = [];
  if (errorsHideTestData(p)) where.push(notInArray(errors.service, [...TEST_DATA_SERVICES]));
  if (p.window) where.push(gte(errors.at, windowStart(p.window, now)));
  if (p.timeout === true) where.push(isNotNull(errors.timeoutKind));
  if (p.timeout === false) where.push(sql`${errors.timeoutKind} is null`);
  if (p.code) where.push(eq(errors.code, p.code));
  if (p.category) where.push(eq(errors.category, p.category));
  if (p.session) where.push(eq(errors.sessionId, p.session));
  if (p.fingerprint) where.push(eq(errors.fingerprint, p.fingerprint));
  return where;
}

/**
 * A list's `total` and an Overview card's number, the same way: the matching rows, counted up to
 * LIST_TOTAL_CAP + 1 (an index walk that stops there), so the cost does not grow with history.
 */
export async function cappedCount(db: Db, table: PgTable, where: SQL[]): Promise<number> {
  const capped = db.select({ one: sql`1` }).from(table).where(and(...where)).limit(LIST_TOTAL_CAP + 1).as('capped');
  const [row] = await db.select({ n: count() }).from(capped);
  return Number(row?.n ?? 0);
}
