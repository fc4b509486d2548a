/**
 * Sessions: the list operators filter (stuck, failed, state, code, service) and support searches
 * (session id or a trace id a customer quotes), one session's timeline, and its latest output or
 * error for orchestrators (seed 001: reading only assistant output missed the errors).
 */
import { Hono } from 'hono';
import { and, desc, eq, getTableColumns, inArray, isNull, like, or, sql, type SQL } from 'drizzle-orm';
import { errors, sessions, spans } from '../store/tables/index.ts';
import { ATTR, customerMessage, retriesRecorded, type ErrorOccurrence, type SessionState, type TimelineItem, type TimelineKind } from '@faultline/schema';
import {
  LatestOutputShape,
  PageShape,
  SessionDetailShape,
  SessionIdParamShape,
  SessionListQueryShape,
  SessionShape,
  isTraceIdQuery,
} from '@faultline/schema/api';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { errorFromRow, failedSession, latestOutputOf, loadErrorsByIds, notFailedSession, sessionFromRow } from '../sessions/rows.ts';
import type { Db } from '../store/db.ts';
import { afterCursor, cursorTime, pageOf, valid } from './params.ts';

/** The timeline keeps the newest this many items; a runaway session must not produce a 100 MB answer. */
export const TIMELINE_MAX = 2000;

const SessionPageShape = PageShape(SessionShape);

/** The contract's filters, with `code` one this collector knows (the catalog and the operator's codes). */
const listQuery = (codes: CodeBook) =>
  SessionListQueryShape.extend({
    code: SessionListQueryShape.shape.code.refine((c) => c === undefined || codes.get(c) !== undefined, {
      error: 'is not a code in the catalog (GET /api/codes lists them)',
    }),
  });

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (m) => `\\${m}`);

export async function findSession(db: Db, id: string) {
  const [row] = await db.select().from(sessions).where(eq(sessions.id, id)).limit(1);
  if (!row) {
    throw new FaultlineError(
      'not_found',
      404,
      `No session with id ${JSON.stringify(id)}. Session ids are case-sensitive; GET /api/sessions?q=… finds a session by id prefix or trace id.`,
    );
  }
  return row;
}

export function sessionRoutes({ store, config }: CollectorDeps) {
  const codes = codesOf(config);
  const query = listQuery(codes);
  const db = store.db;

  return new Hono()
  .get('/', valid('query', query), async (c) => {
    const p = c.req.valid('query');
    const where: (SQL | undefined)[] = [];
    if (p.state) where.push(eq(sessions.state, p.state));
    if (p.failed === true) where.push(failedSession);
    if (p.failed === false) where.push(notFailedSession);
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
          ),
        );
      } else where.push(byId);
    }
    if (p.cursor) where.push(afterCursor(sessions.lastSeenAt, sessions.id, p.cursor));
    // (last_seen_at desc, id desc) walks sessions_last_seen_idx backwards and stops after limit + 1 rows.
    const rows = await db
      .select({ ...getTableColumns(sessions), cursorTime: cursorTime(sessions.lastSeenAt) })
      .from(sessions)
      .where(and(...where))
      .orderBy(desc(sessions.lastSeenAt), desc(sessions.id))
      .limit(p.limit + 1);
    const page = pageOf(rows, p.limit, sessionFromRow, (r) => ({ t: r.cursorTime, id: r.id }));
    return c.json(SessionPageShape.parse(page), 200);
  })

  .get('/:id', valid('param', SessionIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const session = sessionFromRow(await findSession(db, id));
    const timeline = await loadTimeline(db, id, codes);
    const retries = retriesRecorded(timeline);
    const retryable = session.lastError ? (codes.get(session.lastError.code)?.retryable ?? null) : null;
    return c.json(SessionDetailShape.parse({ session, timeline, customerMessage: customerMessage(session, { retries, retryable }), retries }), 200);
  })

  .get('/:id/latest', valid('param', SessionIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const row = await findSession(db, id);
    return c.json(LatestOutputShape.parse(await latestOutputOf(db, row, codes)), 200);
  });
}

const LIFTED = new Set<string>([ATTR.sessionId, ATTR.sessionState, ATTR.sessionStatusMessage]);

/** The session's spans (and watchdog occurrences, which have no span) in time order, newest TIMELINE_MAX. */
export async function loadTimeline(db: Db, sessionId: string, codes: CodeBook = BUILTIN_CODES): Promise<TimelineItem[]> {
  const rows = await db
    .select({
      traceId: spans.traceId,
      spanId: spans.spanId,
      name: spans.name,
      spanType: spans.spanType,
      startTime: spans.startTime,
      endTime: spans.endTime,
      durationMs: spans.durationMs,
      statusCode: spans.statusCode,
      statusMessage: spans.statusMessage,
      errorCode: spans.errorCode,
      attributes: spans.attributes,
    })
    .from(spans)
    .where(eq(spans.sessionId, sessionId))
    .orderBy(desc(spans.startTime), desc(spans.endTime), desc(spans.spanId))
    .limit(TIMELINE_MAX);
  rows.reverse();
  const occurrences = new Map<string, ErrorOccurrence>();
  for (const e of await loadErrorsByIds(db, rows.filter((r) => r.errorCode !== null).map((r) => `${r.traceId}:${r.spanId}`), codes)) {
    occurrences.set(e.id, e);
  }
  const stalls = await db
    .select()
    .from(errors)
    .where(and(eq(errors.sessionId, sessionId), isNull(errors.spanId)))
    .orderBy(desc(errors.at))
    .limit(TIMELINE_MAX);

  const items: TimelineItem[] = rows.map((r) => {
    const error = occurrences.get(`${r.traceId}:${r.spanId}`);
    const a = r.attributes;
    const base = {
      at: r.startTime.toISOString(),
      endAt: r.endTime.toISOString(),
      durationMs: r.durationMs,
      name: r.name,
      traceId: r.traceId,
      spanId: r.spanId,
      statusCode: r.statusCode as 0 | 1 | 2,
    };
    if (r.spanType === 'status') {
      const details = Object.fromEntries(Object.entries(a).filter(([k]) => !LIFTED.has(k)));
      return {
        ...base,
        kind: 'status',
        state: (a[ATTR.sessionState] as SessionState | undefined) ?? null,
        statusMessage: (a[ATTR.sessionStatusMessage] as string | undefined) ?? null,
        details,
      };
    }
    if (r.spanType === 'heartbeat') {
      const details = Object.fromEntries(
        Object.entries(a).filter(([k]) => k.startsWith(ATTR.heartbeatPrefix)).map(([k, v]) => [k.slice(ATTR.heartbeatPrefix.length), v]),
      );
      return { ...base, kind: 'heartbeat', details };
    }
    const details: Record<string, unknown> = Object.fromEntries(Object.entries(a).filter(([k]) => !LIFTED.has(k)));
    // A failed turn or tool call reads as an error in the timeline; what it was stays in details.spanType.
    if (r.errorCode !== null && error) {
      return {
        ...base,
        kind: 'error',
        code: error?.code ?? r.errorCode,
        message: error?.message ?? codes.get(r.errorCode)?.userMessage ?? null,
        details: { ...details, spanType: r.spanType },
        ...(error ? { error } : {}),
      };
    }
    // A turn that failed only because a tool's recorded error escaped it stays a turn, with the code.
    return { ...base, kind: r.spanType as TimelineKind, code: r.errorCode, message: r.statusMessage, details };
  });
  for (const s of stalls) {
    const error = errorFromRow(s, codes);
    items.push({
      kind: 'error',
      at: error.at,
      endAt: null,
      durationMs: null,
      name: error.title,
      traceId: error.traceId ?? '',
      spanId: '',
      code: error.code,
      message: error.message,
      statusCode: 2,
      details: error.attributes,
      error,
    });
  }
  // Stable sort: spans arrive in (start, end, span id) order; stalls slot in by time. An error sits
  // where it happened (its occurrence time, the failed span's end), not where its turn or tool
  // began: otherwise a failed turn reads as before the `error` status the SDK emitted first.
  const when = (i: TimelineItem) => (i.kind === 'error' ? (i.error?.at ?? i.endAt ?? i.at) : i.at);
  // Log events stamped in the same millisecond keep their producer's order where it says one
  // (Claude Code's `event.sequence`).
  const sequence = (i: TimelineItem) => {
    const n = (i.error?.attributes ?? i.details)['event.sequence'];
    return typeof n === 'number' ? n : 0;
  };
  items.sort((x, y) => (when(x) < when(y) ? -1 : when(x) > when(y) ? 1 : sequence(x) - sequence(y)));
  return items.length > TIMELINE_MAX ? items.slice(items.length - TIMELINE_MAX) : items;
}
