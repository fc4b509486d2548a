import { bigserial, index, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { tz } from './columns.ts';

/**
 * The outbox: written in the same transaction as what fired it (an ingest write, a watchdog
 * sweep, a group status change), so a committed event is never lost and a rolled-back one never
 * sent. The delivery worker turns undispatched rows into deliveries.
 */
export const alertEvents = pgTable(
  'alert_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ruleId: text('rule_id').notNull(),
    key: text('key').notNull(),
    /** firing | resolved, or the session change (error, stuck, stopped, completed) */
    status: text('status').notNull(),
    at: tz('at').notNull(),
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull(),
    /** Session changes seen by two writers at once are one event. */
    dedupKey: text('dedup_key'),
    dispatchedAt: tz('dispatched_at'),
  },
  (t) => [
    uniqueIndex('alert_events_dedup_key_idx').on(t.dedupKey),
    index('alert_events_undispatched_idx').on(t.ruleId, t.id).where(sql`dispatched_at is null`),
  ],
);
