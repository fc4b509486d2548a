#!/usr/bin/env node
/**
 * `faultline` — the collector as a program: `faultline serve` (what `npm start` and the Docker
 * image run), `faultline migrate`, `faultline --help`. Plain Node on the built JavaScript; the
 * commands load only what they need.
 */
import { CONFIG_VARIABLES } from './config.ts';

const HELP = `Usage: faultline <command>

Commands:
  serve     Start the collector: OTLP ingest (/v1/traces), the API (/api) and the dashboard (/),
            on embedded PGlite in FAULTLINE_DATA_DIR, or on Postgres when DATABASE_URL is set.
            Applies pending migrations first.
  migrate   Apply the database migrations to the configured storage and exit.

Options:
  -h, --help     Show this help.
  -v, --version  Show the version.

Configuration comes from the environment; a bad value stops start-up with a message naming it:
  ${CONFIG_VARIABLES.join('\n  ')}
`;

async function version(): Promise<string> {
  const { createRequire } = await import('node:module');
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '-h' || command === '--help' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
  process.stdout.write(HELP);
  process.exitCode = command === undefined ? 1 : 0;
} else if (command === '-v' || command === '--version') {
  console.log(await version());
} else if (rest.length > 0) {
  console.error(`faultline ${command} takes no arguments (got ${rest.join(' ')}); configuration comes from the environment. See faultline --help.`);
  process.exitCode = 2;
} else if (command === 'serve') {
  await import('./main.ts');
} else if (command === 'migrate') {
  await import('./store/migrate-cli.ts');
} else {
  console.error(`Unknown command ${JSON.stringify(command)}. Commands: serve, migrate. See faultline --help.`);
  process.exitCode = 2;
}
