/**
 * Documented scenarios (failure-taxonomy §5): their descriptions with the last stored run, the
 * runner's results, and a run started from the dashboard.
 *
 * `POST /api/scenarios/run` does not play the scenarios in this process. The drivers are a
 * simulated agent runtime: they use @faultline/sdk, spawn and kill processes, and run stub
 * servers — none of which belongs in the collector (the collector imports only the contract).
 * So the run is the `faultline-scenarios` program (@faultline/scenarios) in a child process,
 * pointed at this collector — the very command `npm run scenarios` runs, so the dashboard's
 * button proves what CI proves. Its
 * results come back through `POST /api/scenarios/results` like any runner's.
 */
import { Hono } from 'hono';
import { desc } from 'drizzle-orm';
import { z } from 'zod';
import { scenarioRuns } from '../store/tables/index.ts';
import { SCENARIOS, getScenario, scrubIdentifier, scrubSecrets, type ScenarioCheckResult, type ScenarioLastRun, type ScenarioVariantResult, type ScenarioWithLastRun } from '@faultline/schema';
import {
  ScenarioRecordedShape,
  ScenarioRunRequestShape,
  ScenarioRunResultShape,
  ScenarioRunStatusShape,
  ScenarioWithLastRunShape,
} from '@faultline/schema/api';
import type { CollectorDeps } from '../deps.ts';
import { FaultlineError } from '../errors.ts';
import { ScenarioLauncher, selfUrl } from '../scenarios/launcher.ts';
import { jsonBody, valid } from './params.ts';

const knownId = z.string().refine((id) => getScenario(id) !== undefined, {
  error: `is not a documented scenario (${SCENARIOS.map((s) => s.id).join(', ')})`,
});
const resultBody = ScenarioRunResultShape.extend({ scenarioId: knownId });
const runBody = ScenarioRunRequestShape.extend({ id: knownId.optional(), ids: z.array(knownId).max(SCENARIOS.length).optional() });
const ScenarioListShape = z.array(ScenarioWithLastRunShape);

interface StoredExtra {
  checks?: ScenarioCheckResult[];
  variants?: ScenarioVariantResult[];
}

export function scenarioRoutes({ store, events, config }: CollectorDeps) {
  const db = store.db;
  const launcher = new ScenarioLauncher();

  return new Hono()
  .get('/', async (c) => {
    // The newest run per scenario: scenario_runs_scenario_at_idx, one short walk per scenario.
    const rows = await db
      .selectDistinctOn([scenarioRuns.scenarioId])
      .from(scenarioRuns)
      .orderBy(scenarioRuns.scenarioId, desc(scenarioRuns.at), desc(scenarioRuns.id));
    const last = new Map(rows.map((r) => [r.scenarioId, r]));
    const items: ScenarioWithLastRun[] = SCENARIOS.map((s) => {
      const r = last.get(s.id);
      const extra = (r?.extra ?? {}) as StoredExtra;
      const lastRun: ScenarioLastRun | null = r
        ? {
            passed: r.passed,
            detectedCode: r.detectedCode,
            detectedState: r.detectedState,
            detectMs: r.detectMs,
            sessionId: r.sessionId,
            at: r.at.toISOString(),
            detail: r.detail,
            checks: extra.checks ?? [],
            variants: extra.variants ?? [],
          }
        : null;
      return { ...s, lastRun };
    });
    return c.json(ScenarioListShape.parse(items), 200);
  })

  .post('/results', jsonBody('{"scenarioId":"sandbox-config-missing","passed":true,…}'), valid('json', resultBody), async (c) => {
    const parsed = c.req.valid('json');
    // A runner's details quote errors, and errors can quote secrets: scrubbed like telemetry.
    const body = {
      ...parsed,
      sessionId: parsed.sessionId === null ? null : scrubIdentifier(parsed.sessionId),
      detail: scrubSecrets(parsed.detail),
      checks: parsed.checks.map((k) => ({ ...k, name: scrubSecrets(k.name), detail: k.detail === undefined ? undefined : scrubSecrets(k.detail) })),
      variants: parsed.variants.map((v) => ({ ...v, sessionId: scrubIdentifier(v.sessionId), detail: scrubSecrets(v.detail) })),
    };
    const [row] = await db
      .insert(scenarioRuns)
      .values({
        scenarioId: body.scenarioId,
        passed: body.passed,
        detectedCode: body.detectedCode,
        detectedState: body.detectedState,
        detectMs: body.detectMs,
        sessionId: body.sessionId,
        detail: body.detail,
        extra: { checks: body.checks, variants: body.variants },
      })
      .returning({ id: scenarioRuns.id, at: scenarioRuns.at });
    events.publish({ type: 'scenario', scenarioId: body.scenarioId });
    return c.json(ScenarioRecordedShape.parse({ id: row.id, at: row.at.toISOString() }), 201);
  })

  .get('/run', (c) => c.json(ScenarioRunStatusShape.parse(launcher.status()), 200))

  .post('/run', jsonBody('{"id":"sandbox-config-missing"}'), valid('json', runBody), async (c) => {
    const body = c.req.valid('json');
    const ids = body.ids ?? (body.id ? [body.id] : []);
    if (launcher.running) {
      throw new FaultlineError('scenario_run_in_progress', 409, 'A scenario run is already in progress; GET /api/scenarios/run shows it.');
    }
    const started = launcher.start({
      url: selfUrl(c),
      ids,
      apiToken: config.apiToken,
      ingestKey: config.ingestKeys[0] ?? null,
      onExit: () => events.publish({ type: 'scenario', scenarioId: ids.length === 1 ? ids[0] : '*' }),
    });
    events.publish({ type: 'scenario', scenarioId: ids.length === 1 ? ids[0] : '*' });
    return c.json(ScenarioRunStatusShape.parse(started), 202);
  });
}
