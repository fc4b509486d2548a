/**
 * Error occurrences (newest first, keyset-paged) and groups: one group per fingerprint, i.e. one
 * distinct problem, with a triage status an operator sets (open, resolved, ignored).
 */
import { Hono } from 'hono';
import { and, desc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { errorGroups, errors } from '../store/tables/index.ts';
import type { Category, ErrorGroup, GroupStatus } from '@faultline/schema';
import { ErrorGroupShape, ErrorListQueryShape, ErrorOccurrenceShape, GroupListQueryShape, GroupParamShape, GroupPatchShape, PageShape } from '@faultline/schema/api';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { errorFromRow } from '../sessions/rows.ts';
import type { Db } from '../store/db.ts';
import { afterCursor, cursorTime, jsonBody, pageOf, valid } from './params.ts';

const ErrorPageShape = PageShape(ErrorOccurrenceShape);
const GroupListShape = z.array(ErrorGroupShape);

const groupColumns = {
  ...getTableColumns(errorGroups),
  // errors_fingerprint_idx: distinct sessions among the stored (in-retention) occurrences.
  // Written out in full: Drizzle renders a column unqualified inside select fields, which would bind to e.fingerprint.
  sessions: sql<number>`(select count(distinct e.session_id)::int from errors e where e.fingerprint = error_groups.fingerprint)`,
};

function groupFromRow(r: typeof errorGroups.$inferSelect & { sessions: number }, codes: CodeBook): ErrorGroup {
  return {
    fingerprint: r.fingerprint,
    code: r.code,
    category: r.category as Category,
    title: codes.get(r.code)?.title ?? r.code,
    exceptionType: r.exceptionType,
    sampleMessage: r.sampleMessage,
    firstSeen: r.firstSeen.toISOString(),
    lastSeen: r.lastSeen.toISOString(),
    count: r.count,
    sessions: Number(r.sessions),
    status: r.status as GroupStatus,
  };
}

/** Groups most recently seen first. */
export async function listGroups(
  db: Db,
  f: { code?: string; status?: GroupStatus; limit: number },
  codes: CodeBook = BUILTIN_CODES,
): Promise<ErrorGroup[]> {
  const where: SQL[] = [];
  if (f.code) where.push(eq(errorGroups.code, f.code));
  if (f.status) where.push(eq(errorGroups.status, f.status));
  const rows = await db
    .select(groupColumns)
    .from(errorGroups)
    .where(and(...where))
    .orderBy(desc(errorGroups.lastSeen), desc(errorGroups.fingerprint))
    .limit(f.limit);
  return rows.map((r) => groupFromRow(r, codes));
}

export function errorRoutes({ store, config }: CollectorDeps) {
  const db = store.db;
  const codes = codesOf(config);

  return new Hono()
  .get('/errors', valid('query', ErrorListQueryShape), async (c) => {
    const p = c.req.valid('query');
    const where: SQL[] = [];
    if (p.code) where.push(eq(errors.code, p.code));
    if (p.category) where.push(eq(errors.category, p.category));
    if (p.session) where.push(eq(errors.sessionId, p.session));
    if (p.fingerprint) where.push(eq(errors.fingerprint, p.fingerprint));
    if (p.cursor) where.push(afterCursor(errors.at, errors.id, p.cursor));
    // Each filter has an (x, at) index (errors_*_idx), walked backwards up to limit + 1 rows.
    const rows = await db
      .select({ ...getTableColumns(errors), cursorTime: cursorTime(errors.at) })
      .from(errors)
      .where(and(...where))
      .orderBy(desc(errors.at), desc(errors.id))
      .limit(p.limit + 1);
    const page = pageOf(rows, p.limit, (r) => errorFromRow(r, codes), (r) => ({ t: r.cursorTime, id: r.id }));
    return c.json(ErrorPageShape.parse(page), 200);
  })

  .get('/groups', valid('query', GroupListQueryShape), async (c) => {
    const p = c.req.valid('query');
    return c.json(GroupListShape.parse(await listGroups(db, p, codes)), 200);
  })

  .patch('/groups/:fingerprint', valid('param', GroupParamShape), jsonBody('{"status":"resolved"}'), valid('json', GroupPatchShape), async (c) => {
    const { fingerprint } = c.req.valid('param');
    const { status } = c.req.valid('json');
    const updated = await db.update(errorGroups).set({ status }).where(eq(errorGroups.fingerprint, fingerprint)).returning({ fingerprint: errorGroups.fingerprint });
    if (updated.length === 0) {
      throw new FaultlineError('not_found', 404, `No error group with fingerprint ${JSON.stringify(fingerprint)}; GET /api/groups lists them.`);
    }
    const [row] = await db.select(groupColumns).from(errorGroups).where(eq(errorGroups.fingerprint, fingerprint));
    return c.json(ErrorGroupShape.parse(groupFromRow(row, codes)), 200);
  });
}
