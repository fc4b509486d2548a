import { boolean, index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { tz } from './columns.ts';

/**
 * One alert: a rule and its subject (a group fingerprint, a session id, '' for a rate). Firing
 * and resolving are state changes of this row under its lock, so two writers or two collectors
 * that see the same event fire it once.
 */
export const alertStates = pgTable(
  'alert_states',
  {
    ruleId: text('rule_id').notNull(),
    key: text('key').notNull(),
    /** firing | resolved */
    status: text('status').notNull(),
    startedAt: tz('started_at').notNull(),
    endedAt: tz('ended_at'),
    /** Whether this firing was announced (not throttled or muted): only then is its resolution. */
    notified: boolean('notified').notNull(),
    lastNotifiedAt: tz('last_notified_at'),
    /** What the notification says: code, service, session, message… */
    facts: jsonb('facts').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.key] }), index('alert_states_firing_idx').on(t.ruleId).where(sql`status = 'firing'`)],
);
