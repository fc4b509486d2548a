/**
 * `npm run bench [-- suite…] [--flags]`: the numbers of DESIGN §8, measured side by side in one
 * run on this machine. Suites: ingest, sdk, queries, stuck, bundle, scrub, classifier, alerts, sse (default: all). Prints a table
 * and writes bench/results/latest.json (figures under stable keys; a partial run keeps the other
 * suites' last figures and says when each suite ran).
 *
 * Flags: --quick (smaller sizes, for a smoke run), --profile (ingest collector under --cpu-prof),
 * --storage=postgres|pglite (ingest), --rounds=N (ingest), --no-two (ingest without the
 * two-collector run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, dropAllBenchDatabases } from './lib/env.ts';
import { Report, formatTable, type Figure } from './lib/report.ts';
import { runIngest } from './suites/ingest.ts';
import { runSdk } from './suites/sdk.ts';
import { runQueries } from './suites/queries.ts';
import { runStuck } from './suites/stuck.ts';
import { runBundle } from './suites/bundle.ts';
import { runScrub } from './suites/scrub.ts';
import { runClassifier } from './suites/classifier.ts';
import { runAlerts } from './suites/alerts.ts';
import { runSse } from './suites/sse.ts';

const SUITES = ['ingest', 'sdk', 'queries', 'stuck', 'bundle', 'scrub', 'classifier', 'alerts', 'sse'] as const;
type Suite = (typeof SUITES)[number];

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

const args = process.argv.slice(2);
const flags = new Map(args.filter((a) => a.startsWith('--')).map((a) => {
  const [k, v] = a.slice(2).split('=');
  return [k, v ?? 'true'] as const;
}));
const named = args.filter((a) => !a.startsWith('--'));
for (const n of named) {
  if (!SUITES.includes(n as Suite)) {
    console.error(`Unknown suite ${JSON.stringify(n)}; choose from ${SUITES.join(', ')}.`);
    process.exit(2);
  }
}
const suites: Suite[] = named.length ? (named as Suite[]) : [...SUITES];
const quick = flags.has('quick');

async function main(): Promise<void> {
  const machine = await describeMachine();
  console.log(`Faultline benchmarks: ${suites.join(', ')}${quick ? ' (quick)' : ''}`);
  console.log(`machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}, load ${machine.loadAvg1}\n`);
  const report = new Report();
  const ran: Record<string, string> = {};
  const failed: Record<string, string> = {};
  for (const suite of suites) {
    const started = Date.now();
    console.log(`── ${suite} ──`);
    try {
      if (suite === 'ingest') {
        const storages = flags.has('storage') ? [flags.get('storage') as 'postgres' | 'pglite'] : (['postgres', 'pglite'] as const);
        await runIngest(report, {
          storages: [...storages],
          clients: Number(flags.get('clients') ?? 8),
          spansPerBatch: 1000,
          spans: quick ? { postgres: 40_000, pglite: 20_000 } : { postgres: 300_000, pglite: 100_000 },
          rounds: Number(flags.get('rounds') ?? (quick ? 1 : 2)),
          maxSeconds: 90,
          profile: flags.has('profile'),
          twoCollectors: !flags.has('no-two'),
        });
      } else if (suite === 'sdk') await runSdk(report, { quick });
      else if (suite === 'queries') await runQueries(report, { quick });
      else if (suite === 'stuck') await runStuck(report, { quick });
      else if (suite === 'scrub') await runScrub(report, { quick });
      else if (suite === 'classifier') await runClassifier(report, { quick });
      else if (suite === 'sse') {
        await runSse(report, {
          storages: flags.has('storage') ? [flags.get('storage') as 'postgres' | 'pglite'] : ['postgres', 'pglite'],
          spans: quick ? { postgres: 20_000, pglite: 10_000 } : { postgres: 60_000, pglite: 30_000 },
          rounds: Number(flags.get('rounds') ?? (quick ? 1 : 2)),
          viewerCounts: quick ? [100] : [100, 1000],
        });
      } else if (suite === 'alerts') await runAlerts(report, { quick, storages: flags.has('storage') ? [flags.get('storage') as 'postgres' | 'pglite'] : undefined });
      else await runBundle(report);
      ran[suite] = new Date(started).toISOString();
    } catch (err) {
      failed[suite] = (err as Error).stack ?? String(err);
      console.error(`${suite} failed:`, err);
    }
    console.log(`   (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  await dropAllBenchDatabases();

  console.log(formatTable(report.figures));
  for (const n of report.notes) console.log(`note: ${n}`);

  // Merge into latest.json so a single-suite run keeps the others' last figures.
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, 'latest.json');
  let previous: { figures?: Record<string, unknown>; details?: Record<string, Figure>; suites?: Record<string, unknown> } = {};
  try {
    previous = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    // first run
  }
  const figures: Record<string, unknown> = { ...previous.figures };
  const details: Record<string, Figure> = { ...previous.details };
  for (const f of report.figures) {
    figures[f.key] = f.value;
    details[f.key] = f;
  }
  const out = {
    machine: { ...machine, loadAvg1AtEnd: Math.round(os.loadavg()[0] * 100) / 100 },
    suites: { ...previous.suites, ...Object.fromEntries(Object.entries(ran).map(([s, at]) => [s, { at, quick }])) },
    figures,
    details,
    notes: report.notes,
    ...(Object.keys(failed).length ? { failed } : {}),
  };
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  const missed = report.figures.filter((f) => f.met === false);
  if (missed.length) console.log(`targets missed: ${missed.map((f) => f.key).join(', ')}`);
  if (Object.keys(failed).length) process.exitCode = 1;
}

const onSignal = () => {
  void dropAllBenchDatabases().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
await main();
