/** Database rows → the API's JSON shapes (schema/src/api.ts). One mapping, used by every route and the live stream. */
import { and, desc, eq, inArray, isNull, not, sql, type SQL } from 'drizzle-orm';
import { errors, sessions } from '../store/tables/index.ts';
import { FAILED_SESSION_SQL } from '../store/tables/sessions.ts';
import { ACTIVE_STATES, isTestDataService, type Category, type ErrorOccurrence, type LatestOutput, type Retryable, type Session, type SessionState, type StuckKind } from '@faultline/schema';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { Db } from '../store/db.ts';

export type SessionRow = typeof sessions.$inferSelect;

/**
 * What "failed" means everywhere (lists, overview, dashboard) — isFailedSession in the contract:
 * the session is in `error`, or it never told us its state (a plain OpenTelemetry producer sends
 * no status spans) and its last outcome is an error: no call started after the error succeeded.
 */
export const failedSession: SQL = sql.raw(FAILED_SESSION_SQL);
/** "Active now" — isActiveSession in the contract: an active state, not stuck, not abandoned. */
export const activeSession: SQL = and(inArray(sessions.state, [...ACTIVE_STATES]), eq(sessions.stuck, false), isNull(sessions.abandonedAt))!;

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
    lastOkAt: iso(r.lastOkAt),
    abandonedAt: iso(r.abandonedAt),
    stuckAcknowledgedAt: iso(r.stuckAcknowledgedAt),
    stuckDismissedAt: iso(r.stuckDismissedAt),
    testData: isTestDataService(r.service),
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

/** The latest assistant output or error of a session (`GET /api/sessions/:id/latest`, session webhooks). */
export async function latestOutputOf(db: Db, row: SessionRow, codes: CodeBook = BUILTIN_CODES): Promise<LatestOutput> {
  const id = row.id;
  // errors_session_idx (session_id, at): the newest occurrence is one index probe.
  const [err] = await db.select().from(errors).where(eq(errors.sessionId, id)).orderBy(desc(errors.at), desc(errors.id)).limit(1);
  const state = row.state as SessionState | null;
  const outputAt = row.latestOutput !== null ? row.latestOutputAt : null;
  // On a tie the error wins: an orchestrator must not read stale output as success.
  if (err && (!outputAt || err.at.getTime() >= outputAt.getTime())) {
    const error = errorFromRow(err, codes);
    return { sessionId: id, kind: 'error', at: error.at, text: error.message, error, state };
  }
  if (outputAt) return { sessionId: id, kind: 'output', at: outputAt.toISOString(), text: row.latestOutput, error: null, state };
  return { sessionId: id, kind: 'none', at: null, text: null, error: null, state };
}
