/**
 * Timeouts by kind (errors.timeout_kind: schedule_to_start, heartbeat, cli_exec, …): how many,
 * in how many sessions, when last, under which codes. `kind=` narrows to one kind and lists the
 * sessions it hit, so "Activity timeout" stops being one opaque bucket (seed 003).
 */
import { Hono } from 'hono';
import { and, desc, eq, gte, isNotNull, notInArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { errors } from '../store/tables/index.ts';
import { TEST_DATA_SERVICES, TIMEOUT_KINDS, type Session, type TimeoutStat } from '@faultline/schema';
import { TimeoutStatShape, TimeoutsQueryShape, WINDOWS } from '@faultline/schema/api';
import type { CollectorDeps } from '../deps.ts';
import { loadSessionsByIds } from '../sessions/rows.ts';
import type { Db } from '../store/db.ts';
import { valid } from './params.ts';

/** How many sessions `kind=` lists. */
const AFFECTED_SESSIONS = 100;

const TimeoutListShape = z.array(TimeoutStatShape);

/** One entry per known kind (zeros included, so charts keep their categories), then any other kind seen. */
export async function timeoutStats(db: Db, since: Date, includeTest = false): Promise<TimeoutStat[]> {
  // errors_timeout_kind_idx (timeout_kind, at).
  const rows = await db
    .select({
      kind: sql<string>`${errors.timeoutKind}`,
      count: sql<number>`count(*)::int`,
      sessions: sql<number>`count(distinct ${errors.sessionId})::int`,
      lastSeen: sql<Date | string>`max(${errors.at})`,
      codes: sql<string[]>`array_agg(distinct ${errors.code})`,
    })
    .from(errors)
    .where(and(isNotNull(errors.timeoutKind), gte(errors.at, since), ...(includeTest ? [] : [notInArray(errors.service, [...TEST_DATA_SERVICES])])))
    .groupBy(errors.timeoutKind);
  const byKind = new Map(rows.map((r) => [r.kind, r]));
  const kinds = [...TIMEOUT_KINDS, ...rows.map((r) => r.kind).filter((k) => !(TIMEOUT_KINDS as readonly string[]).includes(k)).sort()];
  return kinds.map((kind) => {
    const r = byKind.get(kind);
    return r
      ? { kind, count: r.count, sessions: r.sessions, lastSeen: new Date(r.lastSeen).toISOString(), codes: [...r.codes].sort() }
      : { kind, count: 0, sessions: 0, lastSeen: null, codes: [] };
  });
}

async function affectedSessions(db: Db, kind: string, since: Date, includeTest: boolean): Promise<Session[]> {
  const hits = await db
    .select({ sessionId: sql<string>`${errors.sessionId}`, last: sql`max(${errors.at})` })
    .from(errors)
    .where(and(eq(errors.timeoutKind, kind), gte(errors.at, since), isNotNull(errors.sessionId), ...(includeTest ? [] : [notInArray(errors.service, [...TEST_DATA_SERVICES])])))
    .groupBy(errors.sessionId)
    .orderBy(desc(sql`max(${errors.at})`))
    .limit(AFFECTED_SESSIONS);
  const byId = new Map((await loadSessionsByIds(db, hits.map((h) => h.sessionId))).map((s) => [s.id, s]));
  return hits.map((h) => byId.get(h.sessionId)).filter((s): s is Session => s !== undefined);
}

export function timeoutRoutes({ store }: CollectorDeps) {
  return new Hono().get('/', valid('query', TimeoutsQueryShape), async (c) => {
    const p = c.req.valid('query');
    const since = new Date(Date.now() - WINDOWS[p.window].ms);
    const stats = await timeoutStats(store.db, since, p.includeTest === true);
    if (!p.kind) return c.json(TimeoutListShape.parse(stats), 200);
    const stat = stats.find((s) => s.kind === p.kind) ?? { kind: p.kind, count: 0, sessions: 0, lastSeen: null, codes: [] };
    // With `kind=`: the one kind, with the sessions it hit in the window.
    const withSessions: TimeoutStat = { ...stat, affectedSessions: await affectedSessions(store.db, p.kind, since, p.includeTest === true) };
    return c.json(TimeoutListShape.parse([withSessions]), 200);
  });
}
