/** Where the benchmarks run: the Postgres server, throwaway databases on it, and the machine. */
import os from 'node:os';
import postgres from 'postgres';

/** DATABASE_URL, or the default local server (DESIGN §8 benchmarks need a real Postgres). */
export function baseDatabaseUrl(): string {
  return process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const live = new Set<BenchDatabase>();

/** A fresh, empty database `faultline_bench_<pid>_<tag>`, dropped by `drop()` (or at exit via dropAll). */
export async function createBenchDatabase(tag: string): Promise<BenchDatabase> {
  const base = baseDatabaseUrl();
  const name = `faultline_bench_${process.pid}_${tag}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const db: BenchDatabase = {
    url: withDatabase(base, name),
    name,
    async drop() {
      live.delete(db);
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await a.end();
    },
  };
  live.add(db);
  return db;
}

export async function dropAllBenchDatabases(): Promise<void> {
  for (const db of [...live]) await db.drop();
}

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine makes absolute figures lower. */
  loadAvg1: number;
}

export async function describeMachine(): Promise<Machine> {
  let pg = 'unreachable';
  const sql = postgres(baseDatabaseUrl(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [row] = await sql.unsafe<{ server_version: string }[]>('show server_version');
    pg = row.server_version;
  } catch {
    // reported as unreachable; the Postgres suites will say why
  } finally {
    await sql.end();
  }
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pg,
    platform: `${os.platform()} ${os.release()}`,
    loadAvg1: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
