import { sql } from 'drizzle-orm';
import { doublePrecision, index, jsonb, pgTable, primaryKey, smallint, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/** Every span received, idempotent on (trace_id, span_id). Typed hot columns; JSONB for the rest. */
export const spans = pgTable(
  'spans',
  {
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    parentSpanId: text('parent_span_id'),
    sessionId: text('session_id'),
    service: text('service').notNull(),
    name: text('name').notNull(),
    /** status | heartbeat | turn | tool | error | span */
    spanType: text('span_type').notNull(),
    kind: smallint('kind').notNull(),
    startTime: tz('start_time').notNull(),
    endTime: tz('end_time').notNull(),
    durationMs: doublePrecision('duration_ms').notNull(),
    statusCode: smallint('status_code').notNull(),
    statusMessage: text('status_message'),
    errorCode: text('error_code'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull(),
    events: jsonb('events').$type<unknown[]>().notNull(),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
    receivedAt: tz('received_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.traceId, t.spanId] }),
    index('spans_session_time_idx').on(t.sessionId, t.startTime),
    // Only retention scans by time: BRIN suits append-ordered time data and is nearly free to maintain.
    index('spans_start_time_brin').using('brin', t.startTime),
    index('spans_error_code_idx').on(t.errorCode, t.startTime).where(sql`${t.errorCode} is not null`),
  ],
);
