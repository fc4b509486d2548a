/**
 * Once per `npm test`: when DATABASE_URL is set, (re)create the migrated template database the
 * Postgres storage fixture clones for every test.
 */
import postgres from 'postgres';
import { PG_TEMPLATE_DB, withDatabase } from '../../collector/src/testing.ts';
import { postgresStore } from '../../collector/src/store/db.ts';

export default async function setup() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    if (process.env.CI) throw new Error('CI must run the storage tests on Postgres too: set DATABASE_URL.');
    console.warn('DATABASE_URL is not set: storage tests run on PGlite only.');
    return;
  }
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Leftovers from an interrupted run.
    const stale = await admin.unsafe<{ datname: string }[]>(`select datname from pg_database where datname like 'faultline_t\\_%'`);
    for (const { datname } of stale) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.unsafe(`drop database if exists "${PG_TEMPLATE_DB}" with (force)`);
    await admin.unsafe(`create database "${PG_TEMPLATE_DB}"`);
  } catch (err) {
    throw new Error(`Cannot prepare the Postgres test template at ${url}: ${(err as Error).message}`);
  } finally {
    await admin.end();
  }
  const store = postgresStore(withDatabase(url, PG_TEMPLATE_DB), { max: 1 });
  await store.migrate();
  await store.close();
}
