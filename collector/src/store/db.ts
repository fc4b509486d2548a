/**
 * Storage: embedded PGlite by default, Postgres through postgres.js when DATABASE_URL is set.
 * Same schema, same migrations, same queries. Drizzle for schema and queries; `query()` for the
 * few hand-written statements on the hot path (see write-batch.ts).
 */
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** What a write transaction can do beyond queries. */
export interface TransactionRunner extends SqlRunner {
  /**
   * `COPY <target> FROM STDIN` (target e.g. `spans (trace_id, …)`) with rows in COPY text format,
   * in pieces. Resolves once every row is sent; a refusal of the COPY fails it or, on Postgres,
   * the next statement of the transaction (and so the transaction).
   */
  copyFrom(target: string, data: readonly string[]): Promise<void>;
}

export interface Store extends SqlRunner {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives, for the start-up banner (no password). */
  readonly location: string;
  readonly db: Db;
  transaction<T>(fn: (tx: TransactionRunner) => Promise<T>): Promise<T>;
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
  const inTransaction = (tx: Pick<PGlite, 'query'>): TransactionRunner => ({
    query: (text, params) => run(tx, text, params),
    // PGlite reads COPY input from its /dev/blob device (https://pglite.dev/docs/api#options).
    copyFrom: async (target, data) => {
      await tx.query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob(data as string[]) });
    },
  });
  let closed = false;
  return {
    kind: 'pglite',
    location,
    db,
    query: (text, params) => run(pg, text, params),
    transaction: (fn) => pg.transaction((tx) => fn(inTransaction(tx))),
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
  const inTransaction = (tx: postgres.TransactionSql): TransactionRunner => ({
    query: (text, params) => run(tx, text, params),
    copyFrom: (target, data) => copyInTransaction(tx, target, data),
  });
  return {
    kind: 'postgres',
    location: redactUrl(url),
    db,
    query: (text, params) => run(client, text, params),
    transaction: (fn) => client.begin((tx) => fn(inTransaction(tx))) as never,
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

/**
 * `COPY … FROM STDIN` in a transaction. Resolves once CopyDone is sent, without waiting for the
 * server's answer: statements sent next travel in the same round trip. That is also the only way a
 * refusal shows: postgres.js 3.4.9 never settles the stream when the server refuses a COPY after
 * its last row (porsager/postgres#1173; the fix, #1183, is not released), and the next statement
 * then fails as "current transaction is aborted". A refusal while rows are still streaming fails
 * the stream, and this call.
 */
async function copyInTransaction(tx: postgres.TransactionSql, target: string, data: readonly string[]): Promise<void> {
  const writable = (await tx.unsafe(`copy ${target} from stdin`).writable()) as Writable & { _final(cb: (err?: Error | null) => void): void };
  let copyDone!: () => void;
  const copyDoneSent = new Promise<void>((resolve) => (copyDone = resolve));
  // `_final` sends CopyDone; once it has run, the connection takes the next statement.
  const sendCopyDone = writable._final;
  writable._final = function (this: Writable, cb) {
    sendCopyDone.call(this, cb);
    copyDone();
  };
  // One write: the stream takes a chunk per event-loop turn, and while requests are being decoded
  // on the same loop a turn can take milliseconds.
  const streamed = pipeline(Readable.from([Buffer.concat(data.map((piece) => Buffer.from(piece)))]), writable);
  // A refused COPY settles the stream late (at the next statement's completion), if at all.
  streamed.catch(() => {});
  await Promise.race([streamed, copyDoneSent]);
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
