import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIOS, type ScenarioRunResult, type ScenarioRunStatus, type ScenarioWithLastRun, type StreamEvent } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { ScenarioLauncher } from '../scenarios/launcher.ts';

const TOKEN = 'scenario-test-token-0123456789';

function result(overrides: Partial<ScenarioRunResult> = {}): ScenarioRunResult {
  return {
    scenarioId: 'provider-billing',
    passed: true,
    detectedCode: 'AGT-PROVIDER-BILLING',
    detectedState: 'error',
    detectMs: 840,
    sessionId: 'scn-provider-billing-abc',
    detail: 'AGT-PROVIDER-BILLING and error in 840 ms; 9 checks passed',
    checks: [{ name: 'friendly message', passed: true }],
    variants: [
      { id: 'user-stop', passed: true, detectedCode: 'AGT-SESSION-CANCELLED', detectedState: 'ready', detectMs: 700, sessionId: 's2', detail: 'ok' },
    ],
    ...overrides,
  };
}

async function call(collector: RunningCollector, method: string, url: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${collector.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe.each(STORAGES)('scenarios API on $name', (storage) => {
  let collector: RunningCollector;
  const events: StreamEvent[] = [];

  beforeAll(async () => {
    collector = await startTestCollector(storage, { apiToken: TOKEN });
    collector.deps.events.subscribe((e) => events.push(e));
  });
  afterAll(() => collector?.close());

  it('lists every documented scenario, never run on a fresh collector', async () => {
    const { status, body } = await call(collector, 'GET', '/api/scenarios');
    expect(status).toBe(200);
    const list = body as ScenarioWithLastRun[];
    expect(list.map((s) => s.id)).toEqual(SCENARIOS.map((s) => s.id));
    const billing = list.find((s) => s.id === 'provider-billing')!;
    expect(billing).toMatchObject({ seed: '004', expectedCode: 'AGT-PROVIDER-BILLING', expectedState: 'error', lastRun: null });
    expect(billing.expectedMessage).toContain('Anthropic');
    expect(billing.timeToDetectMs).toBeGreaterThan(0);
    expect(billing.variants.map((v) => v.id)).toEqual(['user-stop', 'stale-error-text']);
  });

  it('stores a result, announces it live, and serves the newest one as lastRun', async () => {
    const first = await call(collector, 'POST', '/api/scenarios/results', result({ passed: false, detail: 'older run', detectMs: 9000 }));
    expect(first.status).toBe(201);
    const second = await call(collector, 'POST', '/api/scenarios/results', result());
    expect(second.status).toBe(201);
    expect(events.filter((e) => e.type === 'scenario')).toEqual([
      { type: 'scenario', scenarioId: 'provider-billing' },
      { type: 'scenario', scenarioId: 'provider-billing' },
    ]);
    const list = (await call(collector, 'GET', '/api/scenarios')).body as ScenarioWithLastRun[];
    const billing = list.find((s) => s.id === 'provider-billing')!;
    expect(billing.lastRun).toMatchObject({
      passed: true,
      detectedCode: 'AGT-PROVIDER-BILLING',
      detectedState: 'error',
      detectMs: 840,
      sessionId: 'scn-provider-billing-abc',
      detail: 'AGT-PROVIDER-BILLING and error in 840 ms; 9 checks passed',
      checks: [{ name: 'friendly message', passed: true }],
    });
    expect(billing.lastRun!.variants[0]).toMatchObject({ id: 'user-stop', detectedCode: 'AGT-SESSION-CANCELLED' });
    expect(Date.parse(billing.lastRun!.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(list.find((s) => s.id === 'cli-exec-timeout')!.lastRun).toBeNull();
  });

  it('refuses results for unknown scenarios or with missing fields, and requests without the API token', async () => {
    const unknown = await call(collector, 'POST', '/api/scenarios/results', result({ scenarioId: 'made-up' }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_request');
    expect(unknown.body.error.message).toMatch(/scenarioId: is not a documented scenario/);
    const { passed: _omit, ...incomplete } = result();
    expect((await call(collector, 'POST', '/api/scenarios/results', incomplete)).status).toBe(400);
    expect((await call(collector, 'POST', '/api/scenarios/results', result(), null)).status).toBe(401);
    expect((await call(collector, 'GET', '/api/scenarios', undefined, null)).status).toBe(401);
    expect((await call(collector, 'POST', '/api/scenarios/run', { id: 'made-up' })).status).toBe(400);
  });
});

describe(`POST /api/scenarios/run (${STORAGES[0].name})`, () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], { apiToken: TOKEN, ingestKeys: ['scenario-ingest-key-0123456789'] });
  });
  afterAll(() => collector?.close());

  it('plays a scenario in the background against this collector (with its credentials) and stores the result', async () => {
    const scenarioEvents: string[] = [];
    collector.deps.events.subscribe((e) => e.type === 'scenario' && scenarioEvents.push(e.scenarioId));
    const started = await call(collector, 'POST', '/api/scenarios/run', { id: 'sandbox-config-missing' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ running: true, ids: ['sandbox-config-missing'], exitCode: null });
    const again = await call(collector, 'POST', '/api/scenarios/run', {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('scenario_run_in_progress');

    let status: ScenarioRunStatus = started.body;
    for (let i = 0; i < 300 && status.running; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await call(collector, 'GET', '/api/scenarios/run')).body;
    }
    expect(status, status.outputTail).toMatchObject({ running: false, exitCode: 0 });
    expect(status.outputTail).toContain('1 of 1 scenarios passed');
    const list = (await call(collector, 'GET', '/api/scenarios')).body as ScenarioWithLastRun[];
    expect(list.find((s) => s.id === 'sandbox-config-missing')!.lastRun).toMatchObject({ passed: true, detectedCode: 'AGT-SANDBOX-CONFIG-MISSING' });
    expect(scenarioEvents).toContain('sandbox-config-missing');
    // The runtime's spans came in with the collector's ingest key: the session is there.
    const session = await call(collector, 'GET', `/api/sessions/${list.find((s) => s.id === 'sandbox-config-missing')!.lastRun!.sessionId}`);
    expect(session.body.session.lastError.code).toBe('AGT-SANDBOX-CONFIG-MISSING');
  }, 45_000);
});

describe('ScenarioLauncher', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('answers 503 with a reason when this deployment has no runner', () => {
    const launcher = new ScenarioLauncher('/nonexistent/run-cli.ts');
    expect(() => launcher.start({ url: 'http://127.0.0.1:1', ids: [], apiToken: null, ingestKey: null })).toThrow(/cannot run scenarios/);
    expect(launcher.running).toBe(false);
  });

  it('keeps the tail of the runner’s output and its exit code', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
    dirs.push(dir);
    const entry = path.join(dir, 'fake-runner.mjs');
    fs.writeFileSync(entry, "console.log('url', process.env.FAULTLINE_URL, 'token', process.env.FAULTLINE_API_TOKEN, process.argv.slice(2).join(',')); process.exit(3);\n");
    const launcher = new ScenarioLauncher(entry);
    const exited = new Promise<number | null>((resolve) =>
      launcher.start({ url: 'http://127.0.0.1:9', ids: ['a', 'b'], apiToken: 'tok-1234567890123456', ingestKey: null, onExit: resolve }),
    );
    expect(launcher.running).toBe(true);
    expect(await exited).toBe(3);
    expect(launcher.status()).toMatchObject({ running: false, exitCode: 3, ids: ['a', 'b'] });
    expect(launcher.status().outputTail).toContain('url http://127.0.0.1:9 token tok-1234567890123456 a,b');
  });
});
