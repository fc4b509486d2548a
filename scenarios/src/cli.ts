#!/usr/bin/env node
/**
 * `npm run scenarios [-- <id> …] [--no-record]`: plays the documented scenarios against a running
 * collector (FAULTLINE_URL, default http://127.0.0.1:4318), prints a table, stores each result in
 * the collector, and exits 1 if any scenario failed (2 if the collector cannot be reached).
 * FAULTLINE_API_TOKEN and FAULTLINE_INGEST_KEY are sent when the collector requires them.
 */
import { SCENARIOS } from '@faultline/schema';
import { formatTable, runScenarios, selectScenarios } from './runner.ts';

const HELP = `Usage: faultline-scenarios [<scenario id> …] [--no-record]

Plays Faultline's documented fault scenarios against a running collector and prints a table.
Exits 0 when every scenario passed, 1 when one failed, 2 when the collector cannot be reached.

  --no-record   do not store the results in the collector (its Scenarios page)
  --help        this text

Environment: FAULTLINE_URL (default http://127.0.0.1:4318), FAULTLINE_API_TOKEN, FAULTLINE_INGEST_KEY.
Scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}
`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const record = !args.includes('--no-record');
  const ids = args.filter((a) => !a.startsWith('--'));
  const url = (process.env.FAULTLINE_URL || 'http://127.0.0.1:4318').replace(/\/+$/, '');
  try {
    selectScenarios(ids);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  try {
    const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
    if (!health.ok) throw new Error(`GET /healthz answered ${health.status}`);
  } catch (err) {
    console.error(`Cannot reach the collector at ${url} (${(err as Error).message}). Start it with \`npm start\` or set FAULTLINE_URL.`);
    return 2;
  }
  console.log(`Running ${ids.length ? ids.join(', ') : 'all scenarios'} against ${url} …`);
  const { results, recordFailures } = await runScenarios({
    url,
    apiToken: process.env.FAULTLINE_API_TOKEN,
    ingestKey: process.env.FAULTLINE_INGEST_KEY,
    ids,
    record,
    onResult: (r) => console.log(`  ${r.passed ? '✓' : '✗'} ${r.scenarioId}${r.detectMs === null ? '' : ` (${r.detectMs} ms)`}`),
  });
  console.log(`\n${formatTable(results)}`);
  if (recordFailures.length) {
    console.error(`\nThe collector did not store ${recordFailures.length} result(s):\n  ${recordFailures.join('\n  ')}`);
  }
  return results.every((r) => r.passed) && recordFailures.length === 0 ? 0 : 1;
}

// Exit explicitly: a failed scenario may leave a timer or socket behind, and the exit code is the answer.
main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
