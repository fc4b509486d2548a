import { index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/** One row per error occurrence. `id` is `<trace_id>:<span_id>` for spans, `stuck:<session>:<ms>` for the watchdog. */
export const errors = pgTable(
  'errors',
  {
    id: text('id').primaryKey(),
    at: tz('at').notNull(),
    sessionId: text('session_id'),
    traceId: text('trace_id'),
    spanId: text('span_id'),
    service: text('service').notNull(),
    code: text('code').notNull(),
    category: text('category').notNull(),
    message: text('message').notNull(),
    technicalMessage: text('technical_message'),
    exceptionType: text('exception_type'),
    stacktrace: text('stacktrace'),
    fingerprint: text('fingerprint').notNull(),
    timeoutKind: text('timeout_kind'),
    httpStatus: integer('http_status'),
    upstreamStatus: integer('upstream_status'),
    upstreamType: text('upstream_type'),
    retryable: text('retryable').notNull(),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull(),
    /** Which classifier rule decided the code (`http-status`, `operator:<id>`, `watchdog`, …); null before it was recorded. */
    classifierRule: text('classifier_rule'),
    /** The signal that rule used, e.g. `exception.type="TimeoutFailure"`. */
    classifierSignal: text('classifier_signal'),
  },
  (t) => [
    index('errors_at_idx').on(t.at),
    index('errors_code_at_idx').on(t.code, t.at),
    index('errors_category_at_idx').on(t.category, t.at),
    index('errors_session_idx').on(t.sessionId, t.at),
    index('errors_timeout_kind_idx').on(t.timeoutKind, t.at),
    index('errors_fingerprint_idx').on(t.fingerprint),
  ],
);
