import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { tz } from './columns.ts';

/**
 * One notification to one destination: the exact body, sent on every attempt with the same id
 * (`X-Faultline-Delivery-Id`), and what the receiver answered. A worker leases a due row (FOR
 * UPDATE SKIP LOCKED) before sending, so among several collectors one sends it.
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: text('id').primaryKey(),
    /** alert | session | test */
    kind: text('kind').notNull(),
    destinationId: text('destination_id').notNull(),
    ruleId: text('rule_id'),
    title: text('title').notNull(),
    body: text('body').notNull(),
    /** pending | retrying | sent | failed */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: tz('created_at').notNull(),
    nextAttemptAt: tz('next_attempt_at'),
    giveUpAt: tz('give_up_at').notNull(),
    lastAttemptAt: tz('last_attempt_at'),
    sentAt: tz('sent_at'),
    leaseUntil: tz('lease_until'),
    leaseToken: text('lease_token'),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    error: text('error'),
  },
  (t) => [
    index('alert_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status in ('pending', 'retrying')`),
    index('alert_deliveries_created_idx').on(t.createdAt, t.id),
    index('alert_deliveries_destination_idx').on(t.destinationId, t.createdAt),
  ],
);
