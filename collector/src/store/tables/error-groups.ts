import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/** fingerprint → one problem. Counts survive retention of the occurrences. */
export const errorGroups = pgTable(
  'error_groups',
  {
    fingerprint: text('fingerprint').primaryKey(),
    code: text('code').notNull(),
    category: text('category').notNull(),
    exceptionType: text('exception_type'),
    sampleMessage: text('sample_message').notNull(),
    firstSeen: tz('first_seen').notNull(),
    lastSeen: tz('last_seen').notNull(),
    count: integer('count').notNull().default(0),
    /** open | resolved | ignored */
    status: text('status').notNull().default('open'),
    /** When a resolved group saw a new occurrence and reopened by itself (a regression); cleared when an operator sets the status. */
    regressedAt: tz('regressed_at'),
  },
  (t) => [index('error_groups_last_seen_idx').on(t.lastSeen), index('error_groups_code_idx').on(t.code)],
);
