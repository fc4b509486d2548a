/**
 * The catalog as support staff read it, with live counts: how often each code happened within
 * retention, in how many sessions, and when last; one code adds the sessions it hit recently.
 */
import { Hono } from 'hono';
import { and, desc, eq, gte, isNotNull, sql } from 'drizzle-orm';
import { errors } from '../store/tables/index.ts';
import type { CatalogEntry, CodeWithStats, Session } from '@faultline/schema';
import { CodeDetailShape, CodeParamShape, CodeWithStatsShape } from '@faultline/schema/api';
import { z } from 'zod';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { loadSessionsByIds } from '../sessions/rows.ts';
import { listGroups } from './errors.ts';
import { valid } from './params.ts';

/** How many sessions /api/codes/:code lists. */
const RECENT_SESSIONS = 20;

const CodeListShape = z.array(CodeWithStatsShape);

interface Stats {
  count: number;
  sessions: number;
  lastSeen: string | null;
}

function withStats(e: CatalogEntry, s: Stats | undefined): CodeWithStats {
  return {
    code: e.code,
    category: e.category,
    title: e.title,
    userMessage: e.userMessage,
    userSaw: e.userSaw ?? null,
    supportNote: e.supportNote,
    operatorHint: e.operatorHint,
    retryable: e.retryable,
    httpStatus: e.httpStatus,
    timeoutKind: e.timeoutKind ?? null,
    count: s?.count ?? 0,
    sessions: s?.sessions ?? 0,
    lastSeen: s?.lastSeen ?? null,
  };
}

const statsColumns = {
  code: errors.code,
  count: sql<number>`count(*)::int`,
  sessions: sql<number>`count(distinct ${errors.sessionId})::int`,
  lastSeen: sql<string | null>`max(${errors.at})`,
};

const isoOrNull = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

export function codeRoutes({ store, config }: CollectorDeps) {
  const db = store.db;
  const codes = codesOf(config);
  // The retention sweep runs hourly; counting from the cutoff keeps answers right in between.
  const since = () => new Date(Date.now() - config.retentionDays * 86_400_000);

  return new Hono()
  .get('/', async (c) => {
    const rows = await db.select(statsColumns).from(errors).where(gte(errors.at, since())).groupBy(errors.code);
    const byCode = new Map(rows.map((r) => [r.code, { count: r.count, sessions: r.sessions, lastSeen: isoOrNull(r.lastSeen) }]));
    return c.json(CodeListShape.parse(codes.entries.map((e) => withStats(e, byCode.get(e.code)))), 200);
  })

  .get('/:code', valid('param', CodeParamShape), async (c) => {
    const asked = c.req.valid('param').code;
    const entry = codes.get(asked.toUpperCase());
    if (!entry) {
      throw new FaultlineError(
        'not_found',
        404,
        `No error code ${JSON.stringify(asked)} in the catalog. Codes look like AGT-PROVIDER-BILLING; GET /api/codes lists them all.`,
      );
    }
    // errors_code_at_idx (code, at) serves all three.
    const [stats] = await db
      .select(statsColumns)
      .from(errors)
      .where(and(eq(errors.code, entry.code), gte(errors.at, since())))
      .groupBy(errors.code);
    const hits = await db
      .select({ sessionId: errors.sessionId })
      .from(errors)
      .where(and(eq(errors.code, entry.code), isNotNull(errors.sessionId)))
      .orderBy(desc(errors.at))
      .limit(RECENT_SESSIONS * 25);
    const ids = [...new Set(hits.map((h) => h.sessionId!))].slice(0, RECENT_SESSIONS);
    const byId = new Map((await loadSessionsByIds(db, ids)).map((s) => [s.id, s]));
    const detail = {
      ...withStats(entry, stats && { count: stats.count, sessions: stats.sessions, lastSeen: isoOrNull(stats.lastSeen) }),
      recentSessions: ids.map((id) => byId.get(id)).filter((s): s is Session => s !== undefined),
      groups: await listGroups(db, { code: entry.code, limit: 100 }, codes),
    };
    return c.json(CodeDetailShape.parse(detail), 200);
  });
}
