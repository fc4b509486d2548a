import { boolean, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

/** What to tell whom (schema/src/alerts.ts describes each field). */
export const alertRules = pgTable('alert_rules', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** new_group | regression | stuck_session | error_rate | session_state */
  kind: text('kind').notNull(),
  destinationIds: text('destination_ids').array().notNull(),
  filters: jsonb('filters').$type<{ codes?: string[]; categories?: string[]; services?: string[]; agents?: string[] }>().notNull().default({}),
  threshold: integer('threshold'),
  windowMs: integer('window_ms'),
  states: text('states').array(),
  throttleMs: integer('throttle_ms').notNull(),
  groupWaitMs: integer('group_wait_ms').notNull(),
  muted: boolean('muted').notNull().default(false),
  /** api | file */
  managedBy: text('managed_by').notNull().default('api'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});
