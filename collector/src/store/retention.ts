/**
 * Retention (FAULTLINE_RETENTION_DAYS): spans, error occurrences and sessions last seen before the
 * window are deleted, then the error groups none of whose occurrences is left and the scenario runs
 * before the window; a group with occurrences left keeps its whole count. Runs 10 s after start and
 * every FAULTLINE_RETENTION_INTERVAL_MS, in bounded chunks so it never holds a long lock against ingest.
 */
import type { Config } from '../config.ts';
import type { SqlRunner, Store } from './db.ts';
import { describeForLog } from '../errors.ts';
import { RETAINED_TABLES, vacuumTables, type MaintenanceCounters } from './maintenance.ts';

const CHUNK = 10_000;

export async function deleteExpired(store: SqlRunner, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  let total = 0;
  // Sessions last seen before the window have no spans left to show. A group last seen before the
  // window has had every occurrence deleted just above (an occurrence is never later than its
  // group's last_seen); the `not exists` keeps one whose occurrences were written with other times.
  for (const [table, key, expired] of [
    ['spans', 'trace_id, span_id', 'start_time < $1'],
    ['errors', 'id', 'at < $1'],
    ['sessions', 'id', 'last_seen_at < $1'],
    ['error_groups', 'fingerprint', 'last_seen < $1 and not exists (select 1 from errors e where e.fingerprint = error_groups.fingerprint)'],
    ['scenario_runs', 'id', 'at < $1'],
  ] as const) {
    for (;;) {
      const rows = await store.query<{ n: number }>(
        `with gone as (delete from ${table} where (${key}) in (select ${key} from ${table} where ${expired} limit ${CHUNK}) returning 1)
         select count(*)::int as n from gone`,
        [cutoff],
      );
      const n = Number(rows[0]?.n ?? 0);
      total += n;
      if (n < CHUNK) break;
    }
  }
  return total;
}

export function startRetention(
  store: Store,
  config: Pick<Config, 'retentionDays' | 'retentionIntervalMs'>,
  counters: { retentionDeleted: number } & MaintenanceCounters,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    running = deleteExpired(store, config.retentionDays)
      .then(async (n) => {
        counters.retentionDeleted += n;
        // Embedded storage has no autovacuum: without this the freed space is never reused.
        if (n > 0) await vacuumTables(store, RETAINED_TABLES, counters);
      })
      .catch((err) =>
        console.error(`Retention sweep failed (next try in ${Math.round(config.retentionIntervalMs / 1000)} s): ${describeForLog(err).split('\n')[0]}`),
      )
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(run, 10_000);
  first.unref();
  const timer = setInterval(run, config.retentionIntervalMs);
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
