/**
 * Retention (FAULTLINE_RETENTION_DAYS): spans, error occurrences and sessions last seen before the
 * window are deleted; error-group counts stay. Runs at start and hourly, in bounded chunks so it never
 * holds a long lock against ingest.
 */
import type { Config } from '../config.ts';
import type { SqlRunner } from './db.ts';
import { describeForLog } from '../errors.ts';

const CHUNK = 10_000;

export async function deleteExpired(store: SqlRunner, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  let total = 0;
  // Sessions last seen before the window have no spans left to show; error groups keep their counts.
  for (const [table, key, time] of [['spans', 'trace_id, span_id', 'start_time'], ['errors', 'id', 'at'], ['sessions', 'id', 'last_seen_at']] as const) {
    for (;;) {
      const rows = await store.query<{ n: number }>(
        `with gone as (delete from ${table} where (${key}) in (select ${key} from ${table} where ${time} < $1 limit ${CHUNK}) returning 1)
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

export function startRetention(store: SqlRunner, config: Pick<Config, 'retentionDays'>, counters: { retentionDeleted: number }): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    running = deleteExpired(store, config.retentionDays)
      .then((n) => {
        counters.retentionDeleted += n;
      })
      .catch((err) => console.error(`Retention sweep failed (next try in an hour): ${describeForLog(err).split('\n')[0]}`))
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(run, 10_000);
  first.unref();
  const timer = setInterval(run, 3_600_000);
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
