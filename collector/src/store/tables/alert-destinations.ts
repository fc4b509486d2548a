import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/** Where notifications go. The URL (a Slack webhook URL is a credential) and the secret never leave through the API. */
export const alertDestinations = pgTable('alert_destinations', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** webhook | slack */
  kind: text('kind').notNull(),
  url: text('url').notNull(),
  /** Standard Webhooks signing secret (whsec_…); null: unsigned. */
  secret: text('secret'),
  minIntervalMs: integer('min_interval_ms').notNull().default(0),
  /** Pacing shared by every collector: no request to this destination before this time (rate limit, Retry-After). */
  nextSendAt: tz('next_send_at'),
  /** api | file */
  managedBy: text('managed_by').notNull().default('api'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});
