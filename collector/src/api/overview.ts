/**
 * The first screen: how many sessions were seen in the window and how many of them failed, what
 * is active and stuck right now (disjoint: a stuck session is not active), errors in the window, the top codes, timeouts by kind, and error
 * counts per category over time. Every count is bounded by an index range (the window, or the
 * live states), so the cost follows recent activity, not the size of history.
 */
import { Hono } from 'hono';
import { and, count, desc, sql } from 'drizzle-orm';
import { errors, sessions } from '../store/tables/index.ts';
import { CATEGORIES, OVERVIEW_CARDS, cardQuery, type Category, type Overview, type OverviewBucket, type OverviewCard } from '@faultline/schema';
import { OverviewQueryShape, OverviewShape, WINDOWS } from '@faultline/schema/api';
import type { CollectorDeps } from '../deps.ts';
import { codesOf } from '../config.ts';
import { valid } from './params.ts';
import { timeoutStats } from './timeouts.ts';
import { cappedCount, errorConditions, sessionConditions } from '../sessions/filters.ts';

const card = (key: OverviewCard['key']) => OVERVIEW_CARDS.find((c) => c.key === key)!;

export function overviewRoutes({ store, config }: CollectorDeps) {
  const codes = codesOf(config);
  const db = store.db;

  return new Hono().get('/', valid('query', OverviewQueryShape), async (c) => {
    const { window, includeTest = false } = c.req.valid('query');
    const { ms, bucketMs } = WINDOWS[window];
    const now = Date.now();
    const since = new Date(now - ms);
    const bucketSec = bucketMs / 1000;
    // Each card counts exactly the list its link opens (cardQuery / cardHref in the contract).
    const sessionsOf = (key: OverviewCard['key']) => cappedCount(db, sessions, sessionConditions(db, cardQuery(card(key), window, includeTest), now));
    const inWindow = and(...errorConditions({ window, includeTest }, now));

    const [total, failed, active, stuck, errorCount, top, perBucket, timeouts] = await Promise.all([
      // sessions_last_seen_idx, sessions_state_idx (state, last_seen_at), sessions_stuck_idx, errors_at_idx
      db.$count(sessions, and(...sessionConditions(db, { window, includeTest }, now))),
      sessionsOf('failed'),
      sessionsOf('active'),
      sessionsOf('stuck'),
      cappedCount(db, errors, errorConditions(cardQuery(card('errors'), window, includeTest), now)),
      db
        .select({ code: errors.code, category: errors.category, count: count().as('n') })
        .from(errors)
        .where(inWindow)
        .groupBy(errors.code, errors.category)
        .orderBy(desc(sql`n`), errors.code)
        .limit(10),
      db
        .select({
          bucket: sql<number>`floor(extract(epoch from ${errors.at}) / ${sql.raw(String(bucketSec))})::int`.as('bucket'),
          category: errors.category,
          count: count(),
        })
        .from(errors)
        .where(inWindow)
        .groupBy(sql`bucket`, errors.category),
      timeoutStats(db, since, includeTest),
    ]);

    const first = Math.floor(since.getTime() / bucketMs);
    const last = Math.floor(now / bucketMs);
    const series: OverviewBucket[] = [];
    for (let b = first; b <= last; b++) {
      series.push({ at: new Date(b * bucketMs).toISOString(), byCategory: Object.fromEntries(CATEGORIES.map((k) => [k, 0])), total: 0 });
    }
    for (const r of perBucket) {
      const slot = series[Number(r.bucket) - first];
      if (!slot) continue;
      slot.byCategory[r.category] = (slot.byCategory[r.category] ?? 0) + Number(r.count);
      slot.total += Number(r.count);
    }

    const overview: Overview = {
      window,
      includeTest,
      sessions: { total, active, failed, stuck },
      errors: errorCount,
      topCodes: top.map((t) => {
        return { code: t.code, title: codes.get(t.code)?.title ?? t.code, category: t.category as Category, count: Number(t.count) };
      }),
      timeouts,
      series,
    };
    return c.json(OverviewShape.parse(overview), 200);
  });
}
