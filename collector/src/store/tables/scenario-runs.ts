import { boolean, index, integer, jsonb, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { tz } from './columns.ts';

export const scenarioRuns = pgTable(
  'scenario_runs',
  {
    id: serial('id').primaryKey(),
    scenarioId: text('scenario_id').notNull(),
    passed: boolean('passed').notNull(),
    detectedCode: text('detected_code'),
    detectedState: text('detected_state'),
    detectMs: integer('detect_ms'),
    sessionId: text('session_id'),
    detail: text('detail').notNull(),
    extra: jsonb('extra').$type<Record<string, unknown>>(),
    at: tz('at').notNull().defaultNow(),
  },
  (t) => [index('scenario_runs_scenario_at_idx').on(t.scenarioId, t.at)],
);
