/**
 * Error occurrences (newest first, keyset-paged) and groups: one group per fingerprint, i.e. one
 * distinct problem, with a triage status an operator sets (open, resolved, ignored).
 */
import { Hono } from 'hono';
import { and, desc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { errorGroups, errors } from '@faultline/schema/db';
import { CATEGORIES, type Category, type ErrorGroup, type ErrorOccurrence, type Page } from '@faultline/schema';
import { BUILTIN_CODES, type CodeBook } from '@faultline/schema/operator-rules';
import type { CollectorDeps } from '../app.ts';
import { codesOf } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { errorFromRow } from '../sessions/rows.ts';
import type { Db } from '../store/db.ts';
import { afterCursor, cursorParam, cursorTime, limitParam, pageOf, parseQuery, readJsonBody, textParam } from './params.ts';

const GROUP_STATUSES = ['open', 'resolved', 'ignored'] as const;
type GroupStatus = (typeof GROUP_STATUSES)[number];

const codeParam = textParam(64).transform((c) => c?.toUpperCase());

const errorsQuery = z.object({
  code: codeParam,
  category: z.enum(CATEGORIES, { error: `must be one of ${CATEGORIES.join(', ')}` }).optional(),
  session: textParam(256),
  fingerprint: textParam(256),
  limit: limitParam(50, 500),
  cursor: cursorParam,
});

const groupsQuery = z.object({
  code: codeParam,
  status: z.enum(GROUP_STATUSES, { error: `must be one of ${GROUP_STATUSES.join(', ')}` }).optional(),
  limit: limitParam(200, 1000),
});

const groupPatch = z.object({
  status: z.enum(GROUP_STATUSES, { error: `must be one of ${GROUP_STATUSES.join(', ')}` }),
});

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

export function errorRoutes({ store, config }: CollectorDeps): Hono {
  const app = new Hono();
  const db = store.db;
  const codes = codesOf(config);

  app.get('/errors', async (c) => {
    const p = parseQuery(errorsQuery, c.req.query());
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
    const page: Page<ErrorOccurrence> = pageOf(rows, p.limit, (r) => errorFromRow(r, codes), (r) => ({ t: r.cursorTime, id: r.id }));
    return c.json(page);
  });

  app.get('/groups', async (c) => {
    const p = parseQuery(groupsQuery, c.req.query());
    return c.json(await listGroups(db, p, codes));
  });

  app.patch('/groups/:fingerprint', async (c) => {
    const fingerprint = c.req.param('fingerprint');
    const { status } = groupPatch.parse(await readJsonBody(c.req, '{"status":"resolved"}'));
    const updated = await db.update(errorGroups).set({ status }).where(eq(errorGroups.fingerprint, fingerprint)).returning({ fingerprint: errorGroups.fingerprint });
    if (updated.length === 0) {
      throw new FaultlineError('not_found', 404, `No error group with fingerprint ${JSON.stringify(fingerprint)}; GET /api/groups lists them.`);
    }
    const [row] = await db.select(groupColumns).from(errorGroups).where(eq(errorGroups.fingerprint, fingerprint));
    return c.json(groupFromRow(row, codes));
  });

  return app;
}
