/**
 * Sessions: the list operators filter (stuck, failed, state, code, service) and support searches
 * (session id or a trace id a customer quotes), one session's timeline, and its latest output or
 * error for orchestrators (seed 001: reading only assistant output missed the errors).
 */
import { Hono } from 'hono';
import { and, desc, eq, getTableColumns, isNull } from 'drizzle-orm';
import { errors, sessions, spans } from '../store/tables/index.ts';
import { ATTR, customerMessage, retriesRecorded, type ErrorOccurrence, type SessionState, type TimelineItem, type TimelineKind } from '@faultline/schema';
import {
  LatestOutputShape,
  CountedPageShape,
  SessionDetailShape,
  SessionIdParamShape,
  SessionListQueryShape,
  SessionShape,
  StuckActionShape,
} from '@faultline/schema/api';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { errorFromRow, latestOutputOf, loadErrorsByIds, sessionFromRow } from '../sessions/rows.ts';
import { cappedCount, sessionConditions } from '../sessions/filters.ts';
import type { Db } from '../store/db.ts';
import { afterCursor, cursorTime, jsonBody, pageOf, valid } from './params.ts';

/** The timeline keeps the newest this many items; a runaway session must not produce a 100 MB answer. */
export const TIMELINE_MAX = 2000;

const SessionPageShape = CountedPageShape(SessionShape);

/** The contract's filters, with `code` one this collector knows (the catalog and the operator's codes). */
const listQuery = (codes: CodeBook) =>
  SessionListQueryShape.extend({
    code: SessionListQueryShape.shape.code.refine((c) => c === undefined || codes.get(c) !== undefined, {
      error: 'is not a code in the catalog (GET /api/codes lists them)',
    }),
  });

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

export function sessionRoutes({ store, config, events }: CollectorDeps) {
  const codes = codesOf(config);
  const query = listQuery(codes);
  const db = store.db;

  return new Hono()
  .get('/', valid('query', query), async (c) => {
    const p = c.req.valid('query');
    const filters = sessionConditions(db, p);
    const where = p.cursor ? [...filters, afterCursor(sessions.lastSeenAt, sessions.id, p.cursor)] : filters;
    // (last_seen_at desc, id desc) walks sessions_last_seen_idx backwards and stops after limit + 1 rows.
    const [rows, total] = await Promise.all([
      db
        .select({ ...getTableColumns(sessions), cursorTime: cursorTime(sessions.lastSeenAt) })
        .from(sessions)
        .where(and(...where))
        .orderBy(desc(sessions.lastSeenAt), desc(sessions.id))
        .limit(p.limit + 1),
      // All pages: the number the Overview's card shows for the same filters.
      cappedCount(db, sessions, filters),
    ]);
    const page = pageOf(rows, p.limit, sessionFromRow, (r) => ({ t: r.cursorTime, id: r.id }));
    return c.json(SessionPageShape.parse({ ...page, total }), 200);
  })

  .get('/:id', valid('param', SessionIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const session = sessionFromRow(await findSession(db, id));
    const timeline = await loadTimeline(db, id, codes);
    const retries = retriesRecorded(timeline);
    const retryable = session.lastError ? (codes.get(session.lastError.code)?.retryable ?? null) : null;
    return c.json(SessionDetailShape.parse({ session, timeline, customerMessage: customerMessage(session, { retries, retryable }), retries }), 200);
  })

  // Acknowledge a stall (it stays stuck, marked) or dismiss it (it leaves "stuck now"; the
  // watchdog re-flags only after a newer sign of life stalls again). Stored, so it survives
  // reloads and restarts. A dismissal records the last sign of life it covers (span time, so a
  // producer's clock skew cannot hide the next stall).
  .post('/:id/stuck', valid('param', SessionIdParamShape), jsonBody('{"action":"dismiss"}'), valid('json', StuckActionShape), async (c) => {
    const { id } = c.req.valid('param');
    const { action } = c.req.valid('json');
    await findSession(db, id);
    const rows =
      action === 'dismiss'
        ? await store.query<{ id: string }>(
            `update sessions set stuck = false, stuck_kind = null, stuck_since = null, stuck_acknowledged_at = null,
               stuck_dismissed_at = greatest(last_seen_at, state_at), updated_at = now() where id = $1 and stuck returning id`,
            [id],
          )
        : await store.query<{ id: string }>(
            'update sessions set stuck_acknowledged_at = now(), updated_at = now() where id = $1 and stuck returning id',
            [id],
          );
    if (rows.length === 0) {
      throw new FaultlineError('invalid_request', 400, `Session ${JSON.stringify(id)} is not stuck, so there is nothing to ${action}.`);
    }
    const session = sessionFromRow(await findSession(db, id));
    events.publish({ type: 'session', session });
    return c.json(SessionShape.parse(session), 200);
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
