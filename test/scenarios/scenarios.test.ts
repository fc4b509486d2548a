/**
 * All documented scenarios, end to end, on every storage: a real collector on an ephemeral port,
 * the simulated runtimes reporting through the SDK over OTLP/HTTP, the runner checking through the
 * HTTP API and recording each result — then GET /api/scenarios shows them as the dashboard will.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS, type ScenarioRunResult } from '@faultline/schema';
import { createApiClient, unwrap } from '@faultline/collector/client';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { formatTable, runScenarios } from '../../scenarios/src/runner.ts';

describe.each(STORAGES)('documented scenarios on $name', (storage) => {
  let collector: RunningCollector;
  let results: ScenarioRunResult[];
  let scenarioEvents: string[];

  beforeAll(async () => {
    // The collector's defaults (2 s sweep, 60 s running threshold): scenario 13 relies on its own per-session threshold.
    collector = await startTestCollector(storage);
    scenarioEvents = [];
    collector.deps.events.subscribe((e) => {
      if (e.type === 'scenario') scenarioEvents.push(e.scenarioId);
    });
    const outcome = await runScenarios({ url: collector.url });
    results = outcome.results;
    expect(outcome.recordFailures).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await collector?.close();
  });

  it.each(SCENARIOS.map((s) => [s.number, s.id] as const))('%i %s: detected with the expected code, state and words in time', (_n, id) => {
    const result = results.find((r) => r.scenarioId === id)!;
    const failures = [...result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`), ...result.variants.filter((v) => !v.passed).map((v) => `variant ${v.id}: ${v.detail}`)];
    if (!result.passed) console.log(formatTable([result]));
    expect(failures).toEqual([]);
    expect(result.passed).toBe(true);
    const scenario = SCENARIOS.find((s) => s.id === id)!;
    expect(result.detectedCode).toBe(scenario.expectedCode);
    expect(result.detectedState).toBe(scenario.expectedState);
    expect(result.detectMs).toBeLessThanOrEqual(scenario.timeToDetectMs);
    expect(result.variants.map((v) => v.id)).toEqual(scenario.variants.map((v) => v.id));
  });

  it('stores every result and serves it as lastRun, announcing each on the live stream', async () => {
    const listed = await unwrap(createApiClient(collector.url).api.scenarios.$get());
    expect(listed.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    for (const s of listed) {
      const result = results.find((r) => r.scenarioId === s.id)!;
      expect(s.lastRun).toMatchObject({ passed: result.passed, detectedCode: result.detectedCode, detectMs: result.detectMs, sessionId: result.sessionId });
      expect(s.lastRun!.variants).toHaveLength(s.variants.length);
    }
    expect(new Set(scenarioEvents)).toEqual(new Set(SCENARIOS.map((s) => s.id)));
  });

  it('leaves the sessions on the dashboard: failed ones under failed, the forgotten one under stuck', async () => {
    const { api } = createApiClient(collector.url);
    const failed = await unwrap(api.sessions.$get({ query: { failed: 'true', q: 'scn-', limit: '100' } }));
    const stuck = await unwrap(api.sessions.$get({ query: { stuck: 'true', q: 'scn-', limit: '100' } }));
    const mainOf = (id: string) => results.find((r) => r.scenarioId === id)!.sessionId;
    // Scenario 10 ends with a successful follow-up turn, so its session is ready again.
    const stillFailed = SCENARIOS.filter((x) => x.expectFailed && x.id !== 'turn-start-failed').map((x) => mainOf(x.id));
    expect(failed.items.map((i) => i.id)).toEqual(expect.arrayContaining(stillFailed));
    expect(failed.items.map((i) => i.id)).not.toContain(mainOf('turn-start-failed'));
    expect(stuck.items.map((i) => i.id)).toEqual([mainOf('forgotten-terminal-status')]);
  });
});
