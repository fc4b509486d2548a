/** Database rows → the API's JSON shapes (schema/src/api.ts). One mapping, used by every route and the live stream. */
import { and, eq, inArray, isNotNull, isNull, not, or, type SQL } from 'drizzle-orm';
import { errors, sessions } from '../store/tables/index.ts';
import type { Category, ErrorOccurrence, Retryable, Session, SessionState, StuckKind } from '@faultline/schema';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { Db } from '../store/db.ts';

export type SessionRow = typeof sessions.$inferSelect;

/**
 * What "failed" means everywhere (lists, overview, dashboard): the session is in `error`, or it
 * never told us its state (a plain OpenTelemetry producer sends no status spans) and an error is
 * the only signal we have.
 */
export const failedSession: SQL = or(eq(sessions.state, 'error'), and(isNull(sessions.state), isNotNull(sessions.lastErrorCode)))!;
export const notFailedSession: SQL = not(failedSession);
export type ErrorRow = typeof errors.$inferSelect;

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export function sessionFromRow(r: SessionRow): Session {
  return {
    id: r.id,
    service: r.service,
    agent: r.agent,
    provider: r.provider,
    model: r.model,
    state: r.state as SessionState | null,
    statusMessage: r.statusMessage,
    stuck: r.stuck,
    stuckKind: r.stuckKind as StuckKind | null,
    stuckSince: iso(r.stuckSince),
    lastError: r.lastErrorCode
      ? {
          code: r.lastErrorCode,
          category: r.lastErrorCategory as Category,
          message: r.lastErrorMessage ?? '',
          at: iso(r.lastErrorAt)!,
        }
      : null,
    startedAt: iso(r.startedAt)!,
    lastSeenAt: iso(r.lastSeenAt)!,
    endedAt: iso(r.endedAt),
    errorCount: r.errorCount,
    spanCount: r.spanCount,
    lastTraceId: r.lastTraceId,
    lastHeartbeat: r.lastHeartbeatAt ? { at: iso(r.lastHeartbeatAt)!, details: r.lastHeartbeat ?? {} } : null,
  };
}

/** `codes`: the deployment's catalog (built-in plus operator codes), for titles. */
export function errorFromRow(r: ErrorRow, codes: CodeBook = BUILTIN_CODES): ErrorOccurrence {
  return {
    id: r.id,
    at: iso(r.at)!,
    sessionId: r.sessionId,
    traceId: r.traceId,
    spanId: r.spanId,
    service: r.service,
    code: r.code,
    category: r.category as Category,
    title: codes.get(r.code)?.title ?? r.code,
    message: r.message,
    technicalMessage: r.technicalMessage,
    exceptionType: r.exceptionType,
    stacktrace: r.stacktrace,
    fingerprint: r.fingerprint,
    timeoutKind: r.timeoutKind,
    httpStatus: r.httpStatus,
    upstreamStatus: r.upstreamStatus,
    upstreamType: r.upstreamType,
    retryable: r.retryable as Retryable,
    attributes: r.attributes,
    classification: r.classifierRule === null ? null : { rule: r.classifierRule, signal: r.classifierSignal },
  };
}

export async function loadSessionsByIds(db: Db, ids: string[]): Promise<Session[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(sessions).where(inArray(sessions.id, ids));
  return rows.map(sessionFromRow);
}

export async function loadErrorsByIds(db: Db, ids: string[], codes: CodeBook = BUILTIN_CODES): Promise<ErrorOccurrence[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(errors).where(inArray(errors.id, ids));
  return rows.map((r) => errorFromRow(r, codes));
}
