/**
 * Test support for every package's tests: fresh storage per test on both PGlite and Postgres,
 * and a real collector on an ephemeral port. PGlite costs ~2 s and ~0.7 GiB to create, so each
 * worker migrates one in-memory template and clones it (~0.3 s); Postgres clones a template
 * database made once by test/support/global-setup.ts.
 */
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { inject } from 'vitest';
import { testConfig, type Config } from './config.ts';
import { pgliteStore, postgresStore, type Store } from './store/db.ts';
import { startCollector, type RunningCollector } from './server.ts';

let template: Promise<PGlite> | null = null;

async function pgliteTemplate(): Promise<PGlite> {
  template ??= (async () => {
    const pg = await PGlite.create();
    await pgliteStore(pg, 'template').migrate();
    return pg;
  })();
  return template;
}

export async function newPgliteStore(): Promise<Store> {
  const clone = (await (await pgliteTemplate()).clone()) as PGlite;
  return pgliteStore(clone, 'in-memory PGlite clone');
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

let dbCounter = 0;

/** A fresh database cloned from the run's migrated template (test/support/global-setup.ts). */
export async function newPostgresStore(baseUrl = process.env.DATABASE_URL!, template = inject('pgTemplate')): Promise<Store> {
  if (!template) throw new Error('No Postgres template database: DATABASE_URL was not set when the test run started.');
  const name = `faultline_t_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    // CREATE DATABASE … TEMPLATE fails while another backend briefly holds the template; retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${template}"`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return postgresStore(withDatabase(baseUrl, name), {
    max: 4,
    async onClose() {
      const drop = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await drop.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await drop.end();
    },
  });
}

export interface StorageKind {
  name: 'pglite' | 'postgres';
  create(): Promise<Store>;
}

/**
 * The storages every storage test runs on. Postgres joins when DATABASE_URL is set (CI always
 * sets it; .ci/run fails if it cannot).
 */
export const STORAGES: StorageKind[] = [
  { name: 'pglite', create: newPgliteStore },
  ...(process.env.DATABASE_URL ? [{ name: 'postgres' as const, create: () => newPostgresStore() }] : []),
];

/**
 * The shared test server stalls for over a second now and then under a full parallel suite; with
 * the default 600 ms probe timeout that would read as an outage and answer 503s. Tests that are not
 * about outages use this; the fault suite (test/faults) tests outages with the default.
 */
export const TEST_DB_PROBE_TIMEOUT_MS = 5000;

/** A real collector on 127.0.0.1 with an ephemeral port, on a fresh store. */
export async function startTestCollector(storage: StorageKind, overrides: Partial<Config> = {}): Promise<RunningCollector> {
  const store = await storage.create();
  return startCollector(testConfig({ port: 0, host: '127.0.0.1', dbProbeTimeoutMs: TEST_DB_PROBE_TIMEOUT_MS, ...overrides }), { store });
}
