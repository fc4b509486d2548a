/**
 * Upkeep of the embedded store, so it runs for months. PGlite is Postgres in single-user mode:
 * no checkpointer and no autovacuum. Without a checkpoint the WAL only grows (4 GB after 5 minutes
 * of load) and a restart after a crash replays all of it; without vacuum the space of updated and
 * deleted rows is never reused (the sessions table is rewritten with every batch). So:
 * - CHECKPOINT once FAULTLINE_CHECKPOINT_WAL_MB of WAL was written since the last one, which also
 *   lets Postgres recycle the old segments (max_wal_size is set to twice that at open);
 * - VACUUM the tables that are updated in place (sessions, error groups) on a schedule, and every
 *   table retention deleted from (retention.ts calls vacuumAfterDelete).
 * On Postgres the server's own checkpointer and autovacuum do this; nothing runs here.
 * Each statement runs on PGlite's thread, the event loop: they are kept short and separate.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Store } from './db.ts';

/** How often WAL growth is checked: one tiny query. */
const WAL_CHECK_MS = 2000;
/** Updated-in-place tables are vacuumed this often; a vacuum of 1,000 rows with 20,000 dead versions takes ~10 ms. */
const VACUUM_UPDATED_MS = 60_000;
const UPDATED_TABLES = ['sessions', 'error_groups'];
export const RETAINED_TABLES = ['spans', 'errors', 'sessions', 'error_groups', 'scenario_runs'];

export interface MaintenanceCounters {
  checkpoints: number;
  vacuums: number;
}

/** WAL bytes written since the last checkpoint's redo point. */
export async function walSinceCheckpoint(store: Store): Promise<number> {
  const [row] = await store.query<{ bytes: string | number }>(
    'select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), (select redo_lsn from pg_control_checkpoint())) as bytes',
  );
  return Number(row.bytes);
}

/** VACUUM the given tables one at a time, letting other work in between (PGlite only). */
export async function vacuumTables(store: Store, tables: string[], counters?: MaintenanceCounters): Promise<void> {
  if (store.kind !== 'pglite') return;
  for (const table of tables) {
    await store.query(`vacuum ${table}`);
    if (counters) counters.vacuums++;
    await nextTurn();
  }
}

export function startMaintenance(store: Store, options: { checkpointWalBytes: number }, counters: MaintenanceCounters): () => Promise<void> {
  if (store.kind !== 'pglite') return async () => {};
  let running: Promise<void> | null = null;
  let lastVacuum = Date.now();
  const tick = () => {
    if (running) return;
    running = (async () => {
      if ((await walSinceCheckpoint(store)) >= options.checkpointWalBytes) {
        await store.query('checkpoint');
        counters.checkpoints++;
      }
      if (Date.now() - lastVacuum >= VACUUM_UPDATED_MS) {
        lastVacuum = Date.now();
        await vacuumTables(store, UPDATED_TABLES, counters);
      }
    })()
      .catch((err) => console.error(`Storage maintenance failed (next try in ${WAL_CHECK_MS / 1000} s): ${(err as Error).message}`))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, WAL_CHECK_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
