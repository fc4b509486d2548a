import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/**
 * "Failed" (isFailedSession in the contract) as SQL: in `error`, or no state and the last outcome an
 * error (no call started after the error succeeded). One text for the partial index below and the
 * filter (sessions/rows.ts), so the planner matches them: the failed list and its total walk only
 * failed sessions, whatever the history.
 */
export const FAILED_SESSION_SQL =
  "(coalesce(state, '') = 'error' or (state is null and last_error_code is not null and coalesce(last_ok_at <= last_error_at, true)))";

/** Current state per session, derived from its spans. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    service: text('service').notNull(),
    agent: text('agent'),
    provider: text('provider'),
    model: text('model'),
    state: text('state'),
    statusMessage: text('status_message'),
    /** Span time of the status span that set `state`; older status spans never overwrite it. */
    stateAt: tz('state_at'),
    stuck: boolean('stuck').notNull().default(false),
    stuckKind: text('stuck_kind'),
    stuckSince: tz('stuck_since'),
    stuckAfterMs: integer('stuck_after_ms'),
    lastErrorCode: text('last_error_code'),
    lastErrorCategory: text('last_error_category'),
    lastErrorMessage: text('last_error_message'),
    lastErrorAt: tz('last_error_at'),
    startedAt: tz('started_at').notNull(),
    lastSeenAt: tz('last_seen_at').notNull(),
    endedAt: tz('ended_at'),
    errorCount: integer('error_count').notNull().default(0),
    spanCount: integer('span_count').notNull().default(0),
    lastTraceId: text('last_trace_id'),
    lastHeartbeatAt: tz('last_heartbeat_at'),
    lastHeartbeat: jsonb('last_heartbeat').$type<Record<string, unknown>>(),
    latestOutput: text('latest_output'),
    latestOutputAt: tz('latest_output_at'),
    /** Start of the newest span without an error (plain-OTel sessions derive their outcome from it). */
    lastOkAt: tz('last_ok_at'),
    /** Operator acknowledged the current stall (POST /api/sessions/:id/stuck). */
    stuckAcknowledgedAt: tz('stuck_acknowledged_at'),
    /** Operator dismissed the stall: the last sign of life (span time) it covered; the watchdog re-flags only after a newer one. */
    stuckDismissedAt: tz('stuck_dismissed_at'),
    /** Silent past the abandoned threshold: neither stuck nor active; a new span clears it. */
    abandonedAt: tz('abandoned_at'),
    updatedAt: tz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('sessions_last_seen_idx').on(t.lastSeenAt, t.id),
    index('sessions_state_idx').on(t.state, t.lastSeenAt),
    index('sessions_stuck_idx').on(t.stuck, t.lastSeenAt),
    index('sessions_error_code_idx').on(t.lastErrorCode, t.lastSeenAt),
    index('sessions_service_idx').on(t.service, t.lastSeenAt),
    index('sessions_trace_idx').on(t.lastTraceId),
    index('sessions_failed_idx').on(t.lastSeenAt, t.id).where(sql.raw(FAILED_SESSION_SQL)),
  ],
);
