/** `npm run migrate`: apply the migrations to the configured storage and exit. */
import { loadConfig } from '../config.ts';
import { FaultlineError } from '../errors.ts';
import { openStore } from './db.ts';

try {
  const config = loadConfig();
  const store = await openStore(config);
  console.log(`Migrations applied to ${store.location}`);
  await store.close();
} catch (err) {
  console.error(err instanceof FaultlineError ? err.message : err);
  process.exit(1);
}
