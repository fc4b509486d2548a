/**
 * Error occurrences (newest first, keyset-paged) and groups: one group per fingerprint, i.e. one
 * distinct problem, with a triage status an operator sets (open, resolved, ignored).
 */
import { Hono } from 'hono';
import { and, desc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { errorGroups, errors } from '../store/tables/index.ts';
import type { Category, ErrorGroup, GroupStatus } from '@faultline/schema';
import { ErrorGroupShape, ErrorListQueryShape, ErrorOccurrenceShape, GroupListQueryShape, GroupParamShape, GroupPatchShape, CountedPageShape } from '@faultline/schema/api';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { errorFromRow } from '../sessions/rows.ts';
import { cappedCount, errorConditions } from '../sessions/filters.ts';
import type { Db } from '../store/db.ts';
import { afterCursor, cursorTime, jsonBody, pageOf, valid } from './params.ts';

const ErrorPageShape = CountedPageShape(ErrorOccurrenceShape);
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
    regressedAt: r.regressedAt ? r.regressedAt.toISOString() : null,
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

export function errorRoutes({ store, config, alerts }: CollectorDeps) {
  const db = store.db;
  const codes = codesOf(config);

  return new Hono()
  .get('/errors', valid('query', ErrorListQueryShape), async (c) => {
    const p = c.req.valid('query');
    const filters = errorConditions(p);
    const where = p.cursor ? [...filters, afterCursor(errors.at, errors.id, p.cursor)] : filters;
    // Each filter has an (x, at) index (errors_*_idx), walked backwards up to limit + 1 rows.
    const [rows, total] = await Promise.all([
      db
        .select({ ...getTableColumns(errors), cursorTime: cursorTime(errors.at) })
        .from(errors)
        .where(and(...where))
        .orderBy(desc(errors.at), desc(errors.id))
        .limit(p.limit + 1),
      // All pages: what the Overview's "errors" card counts for the same filters.
      cappedCount(db, errors, filters),
    ]);
    const page = pageOf(rows, p.limit, (r) => errorFromRow(r, codes), (r) => ({ t: r.cursorTime, id: r.id }));
    return c.json(ErrorPageShape.parse({ ...page, total }), 200);
  })

  .get('/groups', valid('query', GroupListQueryShape), async (c) => {
    const p = c.req.valid('query');
    return c.json(GroupListShape.parse(await listGroups(db, p, codes)), 200);
  })

  .patch('/groups/:fingerprint', valid('param', GroupParamShape), jsonBody('{"status":"resolved"}'), valid('json', GroupPatchShape), async (c) => {
    const { fingerprint } = c.req.valid('param');
    const { status } = c.req.valid('json');
    // With its alerts in one transaction: resolving a group resolves its new-group and regression alerts.
    const { updated, events } = await store.transaction(async (tx) => {
      const rows = await tx.query('update error_groups set status = $1, regressed_at = null where fingerprint = $2 returning fingerprint', [status, fingerprint]);
      return { updated: rows, events: rows.length > 0 ? await alerts.afterGroupStatus(tx, fingerprint, status) : 0 };
    });
    if (events > 0) alerts.wake();
    if (updated.length === 0) {
      throw new FaultlineError('not_found', 404, `No error group with fingerprint ${JSON.stringify(fingerprint)}; GET /api/groups lists them.`);
    }
    const [row] = await db.select(groupColumns).from(errorGroups).where(eq(errorGroups.fingerprint, fingerprint));
    return c.json(ErrorGroupShape.parse(groupFromRow(row, codes)), 200);
  });
}
