/**
 * Storage: embedded PGlite by default, Postgres through postgres.js when DATABASE_URL is set.
 * Same schema, same migrations, same queries. Drizzle for schema and queries; `query()` for the
 * few hand-written statements on the hot path (see write-batch.ts).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import * as tables from '@faultline/schema/db';
import { StartupError } from '../errors.ts';
import { lockDataDir, type DirLock } from './lock.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof tables>;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../schema/drizzle', import.meta.url));
// Any constant works; it only has to be the same for every collector on one database.
const MIGRATION_LOCK_ID = 7_426_001;

export interface SqlRunner {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** `COPY <target> FROM STDIN` (e.g. target `spans (trace_id, …)`) with rows in COPY text format. */
  copyFrom(target: string, data: string): Promise<void>;
  /**
   * Whether a COPY the server refuses comes back as an ordinary error. PGlite: yes. postgres.js
   * 3.4.9: no, it never settles (porsager/postgres#1173), so there COPY only targets a table
   * whose rows cannot be refused.
   */
  readonly copyErrorsSurface: boolean;
}

export interface Store extends SqlRunner {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, for the start-up banner (no password). */
  readonly location: string;
  readonly db: Db;
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/** Wrap an open PGlite (file-backed, in-memory or a clone) as a Store. */
export function pgliteStore(pg: PGlite, location: string, onClose: () => void = () => {}): Store {
  const db = drizzlePglite(pg, { schema: tables }) as unknown as Db;
  const run = async <T>(runner: Pick<PGlite, 'query'>, text: string, params?: unknown[]) =>
    (await runner.query<T>(text, params)).rows;
  // PGlite reads COPY input from its /dev/blob device (https://pglite.dev/docs/api#options).
  const copy = async (runner: Pick<PGlite, 'query'>, target: string, data: string) => {
    await runner.query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob([data]) });
  };
  let closed = false;
  return {
    kind: 'pglite',
    location,
    db,
    copyErrorsSurface: true,
    query: (text, params) => run(pg, text, params),
    copyFrom: (target, data) => copy(pg, target, data),
    transaction: (fn) =>
      pg.transaction((tx) =>
        fn({ copyErrorsSurface: true, query: (text, params) => run(tx, text, params), copyFrom: (target, data) => copy(tx, target, data) }),
      ),
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

export async function openPglite(dataDir: string): Promise<Store> {
  const lock: DirLock = lockDataDir(dataDir);
  try {
    const pg = await PGlite.create(path.join(dataDir, 'pgdata'));
    return pgliteStore(pg, `${path.join(dataDir, 'pgdata')} (embedded PGlite)`, () => lock.release());
  } catch (err) {
    lock.release();
    throw new StartupError(`Could not open embedded storage in ${dataDir}: ${(err as Error).message}`, { cause: err });
  }
}

export function postgresStore(url: string, options: { max?: number } = {}): Store {
  const client = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Fail fast when the server is down so ingest can answer 503 instead of hanging.
    connect_timeout: 5,
  });
  const db = drizzlePostgres(client, { schema: tables }) as unknown as Db;
  const run = async <T>(sql: postgres.Sql | postgres.TransactionSql, text: string, params?: unknown[]) =>
    (await sql.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  const copy = async (sql: postgres.Sql | postgres.TransactionSql, target: string, data: string) => {
    const writable = await sql.unsafe(`copy ${target} from stdin`).writable();
    await pipeline(Readable.from([Buffer.from(data)]), writable);
  };
  return {
    kind: 'postgres',
    location: redactUrl(url),
    db,
    copyErrorsSurface: false,
    query: (text, params) => run(client, text, params),
    copyFrom: (target, data) => copy(client, target, data),
    transaction: (fn) =>
      client.begin((tx) =>
        fn({ copyErrorsSurface: false, query: (text, params) => run(tx, text, params), copyFrom: (target, data) => copy(tx, target, data) }),
      ) as never,
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
    close: () => client.end({ timeout: 5 }),
  };
}

/** Open the configured storage and bring its schema up to date. */
export async function openStore(config: { databaseUrl: string | null; dataDir: string }): Promise<Store> {
  const store = config.databaseUrl ? postgresStore(config.databaseUrl) : await openPglite(config.dataDir);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    const where = store.location;
    throw new StartupError(`Could not prepare the database at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return store;
}
