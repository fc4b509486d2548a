/**
 * Once per vitest run: when DATABASE_URL is set, create a migrated template database that the
 * Postgres storage fixture clones for every test. Its name carries this run's pid, so runs that
 * overlap (several engineers, CI's suites) never drop each other's databases.
 */
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { withDatabase } from '../../collector/src/testing.ts';
import { postgresStore } from '../../collector/src/store/db.ts';
import { processAlive } from '../../collector/src/store/lock.ts';
import { RUN_BROWSER_TESTS, SKIPPED_LINE } from '../browser/chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgTemplate: string | null;
  }
}

export default async function setup(project: TestProject) {
  if (!RUN_BROWSER_TESTS) console.warn(SKIPPED_LINE);
  const url = process.env.DATABASE_URL;
  if (!url) {
    if (process.env.CI) throw new Error('CI must run the storage tests on Postgres too: set DATABASE_URL.');
    console.warn('DATABASE_URL is not set: storage tests run on PGlite only.');
    project.provide('pgTemplate', null);
    return;
  }
  const template = `faultline_tpl_${process.pid}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Leftovers of runs whose process is gone (an interrupted run cannot clean up after itself).
    const stale = await admin.unsafe<{ datname: string }[]>(`select datname from pg_database where datname ~ '^faultline_(t|tpl)_[0-9]+'`);
    for (const { datname } of stale) {
      const pid = Number(datname.split('_')[2]);
      if (!processAlive(pid)) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
    await admin.unsafe(`drop database if exists "${template}" with (force)`);
    await admin.unsafe(`create database "${template}"`);
  } catch (err) {
    throw new Error(`Cannot prepare the Postgres test template at ${url}: ${(err as Error).message}`, { cause: err });
  } finally {
    await admin.end();
  }
  const store = postgresStore(withDatabase(url, template), { max: 1 });
  await store.migrate();
  await store.close();
  project.provide('pgTemplate', template);
  return async () => {
    const drop = postgres(url, { max: 1, onnotice: () => {} });
    await drop.unsafe(`drop database if exists "${template}" with (force)`).catch(() => {});
    await drop.end();
  };
}
