/**
 * Runs documented scenarios against a collector and records each result there
 * (`POST /api/scenarios/results`). Used by `npm run scenarios`, by the collector's
 * `POST /api/scenarios/run` (through the faultline-scenarios program in a child process) and by the test suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIOS, getScenario, type ScenarioDescription, type ScenarioRunResult } from '@faultline/schema';
import { CollectorClient } from './api-client.ts';
import { DRIVERS } from './drivers/index.ts';
import { runScenario } from './harness.ts';
import { LiveSessions } from './live.ts';

export interface RunOptions {
  /** The collector's base URL: spans go to `<url>/v1/traces`, checks read `<url>/api/…`. */
  url: string;
  apiToken?: string;
  ingestKey?: string;
  /** Scenario ids; all when empty. */
  ids?: string[];
  /** Store each result in the collector (default true). */
  record?: boolean;
  /** Scenarios played at the same time (default 4). */
  concurrency?: number;
  /** Called as each scenario finishes (they run concurrently). */
  onResult?: (result: ScenarioRunResult, scenario: ScenarioDescription) => void;
}

const DEFAULT_CONCURRENCY = 4;

export interface RunOutcome {
  results: ScenarioRunResult[];
  /** Results the collector refused to store, with why. */
  recordFailures: string[];
}

export function selectScenarios(ids: string[] = []): ScenarioDescription[] {
  if (ids.length === 0) return [...SCENARIOS];
  const unknown = ids.filter((id) => !getScenario(id));
  if (unknown.length) {
    throw new Error(`Unknown scenario id(s): ${unknown.join(', ')}. Known: ${SCENARIOS.map((s) => s.id).join(', ')}.`);
  }
  return SCENARIOS.filter((s) => ids.includes(s.id));
}

export async function runScenarios(options: RunOptions): Promise<RunOutcome> {
  const selected = selectScenarios(options.ids);
  const api = new CollectorClient(options.url, options.apiToken);
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-scenarios-'));
  const runTag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const live = await LiveSessions.connect(api.url, options.apiToken);
  const env = { api, live, endpoint: api.url, ingestKey: options.ingestKey, runTag, tmpRoot };
  const recordFailures: string[] = [];
  try {
    const runOne = async (scenario: ScenarioDescription): Promise<ScenarioRunResult> => {
      const driver = DRIVERS[scenario.id];
      const result: ScenarioRunResult = driver
        ? await runScenario(env, scenario, driver)
        : {
            scenarioId: scenario.id,
            passed: false,
            detectedCode: null,
            detectedState: null,
            detectMs: null,
            sessionId: null,
            detail: 'No driver is registered for this scenario (scenarios/src/drivers).',
            checks: [],
            variants: [],
          };
      if (options.record !== false) {
        await api.recordResult(result).catch((err: Error) => recordFailures.push(`${scenario.id}: ${err.message}`));
      }
      options.onResult?.(result, scenario);
      return result;
    };
    // A few at a time, longest first: all at once would load the machine (spawns, SDK start-up)
    // enough to distort the detection times being measured; one at a time would take a minute.
    const queue = [...selected].sort((a, b) => b.timeToDetectMs - a.timeToDetectMs);
    const byId = new Map<string, ScenarioRunResult>();
    const workers = Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) byId.set(next.id, await runOne(next));
    });
    await Promise.all(workers);
    const results = selected.map((s) => byId.get(s.id)!);
    return { results, recordFailures };
  } finally {
    await live.close();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }
}

/** The table `npm run scenarios` prints: one row per scenario, one per variant under it. */
export function formatTable(results: ScenarioRunResult[]): string {
  const rows: string[][] = [['#', 'scenario', 'expected', 'detected', 'detect ms', 'budget', 'result']];
  for (const r of results) {
    const s = getScenario(r.scenarioId);
    rows.push([
      String(s?.number ?? ''),
      r.scenarioId,
      `${s?.expectedCode ?? '?'} / ${s?.expectedState ?? '?'}`,
      `${r.detectedCode ?? '—'} / ${r.detectedState ?? '—'}`,
      r.detectMs === null ? '—' : String(r.detectMs),
      String(s?.timeToDetectMs ?? ''),
      r.passed ? 'pass' : 'FAIL',
    ]);
    for (const v of r.variants) {
      const d = s?.variants.find((x) => x.id === v.id);
      rows.push([
        '',
        `  ↳ ${v.id}`,
        `${d?.expectedCode ?? 'no error'} / ${d?.expectedState ?? '?'}`,
        `${v.detectedCode ?? '—'} / ${v.detectedState ?? '—'}`,
        v.detectMs === null ? '—' : String(v.detectMs),
        '',
        v.passed ? 'pass' : 'FAIL',
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...row[i]].length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(rows[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  const failed = results.filter((r) => !r.passed);
  out.push('', `${results.length - failed.length} of ${results.length} scenarios passed.`);
  for (const r of failed) out.push(`  ✗ ${r.scenarioId}: ${r.detail}`);
  return out.join('\n');
}
