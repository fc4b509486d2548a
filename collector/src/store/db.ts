/**
 * Storage: embedded PGlite by default, Postgres through postgres.js when DATABASE_URL is set.
 * Same schema, same migrations, same queries. Drizzle for schema and queries; `query()` for the
 * few hand-written statements on the hot path (see write-batch.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import * as tables from './tables/index.ts';
import { StartupError } from '../errors.ts';
import { lockDataDir, type DirLock } from './lock.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof tables>;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));
// Any constant works; it only has to be the same for every collector on one database.
const MIGRATION_LOCK_ID = 7_426_001;

export interface SqlRunner {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Store extends SqlRunner {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, for the start-up banner (no password). */
  readonly location: string;
  readonly db: Db;
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Postgres: `select 1` on a connection of its own (store/health.ts); aborting drops that connection. */
  probe?(signal: AbortSignal): Promise<void>;
}

export interface PostgresOptions {
  /** Pool size. */
  max?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Runs after the pool has ended (tests drop their database here). */
  onClose?: () => Promise<void>;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/** Wrap an open PGlite (file-backed, in-memory or a clone) as a Store. */
export function pgliteStore(pg: PGlite, location: string, onClose: () => void = () => {}): Store {
  const db = drizzlePglite(pg, { schema: tables }) as unknown as Db;
  const run = async <T>(runner: Pick<PGlite, 'query'>, text: string, params?: unknown[]) =>
    (await runner.query<T>(text, params)).rows;
  let closed = false;
  return {
    kind: 'pglite',
    location,
    db,
    query: (text, params) => run(pg, text, params),
    transaction: (fn) => pg.transaction((tx) => fn({ query: (text, params) => run(tx, text, params) })),
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR }),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await pg.close();
      } finally {
        onClose();
      }
    },
  };
}

export async function openPglite(dataDir: string, options: { checkpointWalBytes?: number } = {}): Promise<Store> {
  const lock: DirLock = lockDataDir(dataDir);
  // Checkpoints come from store/maintenance.ts every checkpointWalBytes; these let Postgres recycle
  // WAL segments down to that size after each, so the WAL directory stays near twice that at most.
  const walMb = Math.round((options.checkpointWalBytes ?? 64 * 1024 * 1024) / (1024 * 1024));
  try {
    const pg = await PGlite.create(path.join(dataDir, 'pgdata'), {
      postgresqlconf: [`max_wal_size = ${Math.max(32, walMb * 2)}MB`, `min_wal_size = ${Math.max(32, walMb)}MB`],
    });
    return pgliteStore(pg, `${path.join(dataDir, 'pgdata')} (embedded PGlite)`, () => lock.release());
  } catch (err) {
    lock.release();
    throw new StartupError(`Could not open embedded storage in ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

export function postgresStore(url: string, options: PostgresOptions = {}): Store {
  const connectTimeout = (options.connectTimeoutMs ?? 2000) / 1000;
  const connect = (max: number) =>
    postgres(url, {
      max,
      onnotice: () => {},
      // Fail fast when the server is down or silent so ingest can answer 503 instead of hanging.
      connect_timeout: connectTimeout,
      // No statement may hold a connection longer; a transaction left idle by a lost client is ended.
      connection: {
        statement_timeout: options.statementTimeoutMs ?? 30_000,
        idle_in_transaction_session_timeout: Math.max(60_000, options.statementTimeoutMs ?? 30_000),
      },
    });
  const client = connect(options.max ?? 10);
  const db = drizzlePostgres(client, { schema: tables }) as unknown as Db;
  let prober: postgres.Sql | null = null;
  const run = async <T>(sql: postgres.Sql | postgres.TransactionSql, text: string, params?: unknown[]) =>
    (await sql.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  return {
    kind: 'postgres',
    location: redactUrl(url),
    db,
    query: (text, params) => run(client, text, params),
    transaction: (fn) => client.begin((tx) => fn({ query: (text, params) => run(tx, text, params) })) as never,
    async probe(signal) {
      // No type fetch on connect: `select 1` needs none, and a connection dropped during that fetch
      // rejects a promise nobody holds (postgres.js 3.4).
      const p = (prober ??= postgres(url, { max: 1, onnotice: () => {}, connect_timeout: connectTimeout, fetch_types: false }));
      const drop = () => {
        if (prober === p) prober = null;
        p.end({ timeout: 0 }).catch(() => {});
      };
      signal.addEventListener('abort', drop, { once: true });
      try {
        await p`select 1`;
      } catch (err) {
        drop();
        throw err;
      } finally {
        signal.removeEventListener('abort', drop);
      }
    },
    async migrate() {
      // Two collectors starting together must not run the migrations twice. A client of its own
      // with one connection: the session-level advisory lock and the migration share it.
      const one = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await one.unsafe(`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
        await migratePostgres(drizzlePostgres(one), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await one.end({ timeout: 5 });
      }
    },
    async close() {
      await Promise.all([client.end({ timeout: 5 }), prober?.end({ timeout: 0 })]);
      await options.onClose?.();
    },
  };
}

/** Open the configured storage and bring its schema up to date. */
export async function openStore(config: {
  databaseUrl: string | null;
  dataDir: string;
  dbConnectTimeoutMs?: number;
  dbStatementTimeoutMs?: number;
  checkpointWalBytes?: number;
}): Promise<Store> {
  const store = config.databaseUrl
    ? postgresStore(config.databaseUrl, { connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs })
    : await openPglite(config.dataDir, { checkpointWalBytes: config.checkpointWalBytes });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    const where = store.location;
    throw new StartupError(`Could not prepare the database at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return store;
}
