/**
 * Plays one documented scenario end to end: a simulated runtime (the driver) reports through the
 * real SDK to a live collector; the harness watches the collector's HTTP API until the expected
 * code, state and words arrive, measures the time from the injected fault, and runs the checks
 * every scenario shares (failure-taxonomy §5) plus the driver's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { init, type Faultline, type FaultlineOptions } from '@faultline/sdk';
import {
  STUCK_CODE,
  getCatalogEntry,
  type ScenarioCheckResult,
  type ScenarioDescription,
  type ScenarioRunResult,
  type ScenarioVariant,
  type ScenarioVariantResult,
  type Session,
  type SessionDetail,
  type SessionState,
} from '@faultline/schema';
import { ApiError, type CollectorClient } from './api-client.ts';
import type { LiveSessions } from './live.ts';

/** Detection comes from the live stream; the API is read this often in case the stream missed it. */
const FALLBACK_POLL_MS = 2000;
/** After the budget, keep looking this long so a slow detection is reported with its time. */
const GRACE_MS = 8000;

export interface Expectation {
  code: string | null;
  state: SessionState;
  message: string | null;
  budgetMs: number;
}

export interface Detection {
  detectMs: number;
  session: Session;
  detail: SessionDetail;
}

export interface CaseContext {
  readonly scenario: ScenarioDescription;
  readonly variant: ScenarioVariant | null;
  readonly expect: Expectation;
  /** Unique per run, so runs never mix in one collector. */
  readonly sessionId: string;
  readonly api: CollectorClient;
  /** The simulated runtime's SDK, `init({ endpoint })` against the collector under test. */
  readonly faultline: Faultline;
  /** A scratch directory removed after the case. */
  readonly tmpDir: string;
  /** Another SDK instance with different options (e.g. no periodic heartbeat). */
  runtime(options: Partial<FaultlineOptions>): Faultline;
  /** Marks the moment the fault happens; the detect time counts from here. */
  trigger(): void;
  check(name: string, passed: boolean, detail?: string): void;
  onCleanup(fn: () => void | Promise<void>): void;
}

export interface CaseDriver {
  /** Plays the runtime up to and through the fault; calls `ctx.trigger()` when the fault happens. */
  play(ctx: CaseContext): Promise<void>;
  /** Scenario-specific checks once the collector shows the detection. */
  verify?(ctx: CaseContext, seen: Detection): Promise<void>;
  /** For cases that expect no error: what in the session says the outcome has arrived. */
  arrived?(detail: SessionDetail): boolean;
  /** The state announced by the status span right before the error (default: the expected state). */
  statusBeforeError?: SessionState;
}

/** A fresh driver per case, so a driver may keep state between play() and verify(). */
export type CaseFactory = () => CaseDriver;

export interface ScenarioDriver {
  main: CaseFactory;
  variants: Record<string, CaseFactory>;
}

export interface HarnessEnv {
  api: CollectorClient;
  /** The collector's live stream, where detections show up first. */
  live: LiveSessions;
  /** Where the simulated runtimes send spans (the collector's base URL). */
  endpoint: string;
  ingestKey?: string;
  /** Distinguishes this run's session ids. */
  runTag: string;
  tmpRoot: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectationOf(scenario: ScenarioDescription, variant: ScenarioVariant | null): Expectation {
  if (variant) return { code: variant.expectedCode, state: variant.expectedState, message: variant.expectedMessage, budgetMs: scenario.timeToDetectMs };
  return { code: scenario.expectedCode, state: scenario.expectedState, message: scenario.expectedMessage, budgetMs: scenario.timeToDetectMs };
}

function matches(expect: Expectation, s: Session): boolean {
  if (s.state !== expect.state) return false;
  if (expect.code === null) return true;
  if (s.lastError?.code !== expect.code) return false;
  return expect.code === STUCK_CODE ? s.stuck : true;
}

function describeSeen(s: Session | null | undefined): string {
  if (!s) return 'the collector never saw the session';
  return `session is ${s.state ?? 'without state'}${s.stuck ? ' (stuck)' : ''}, last error ${s.lastError?.code ?? 'none'}`;
}

/** Runs one case (the main scenario or one variant) and reports what it saw. */
export async function runCase(
  env: HarnessEnv,
  scenario: ScenarioDescription,
  variant: ScenarioVariant | null,
  driver: CaseDriver,
): Promise<ScenarioVariantResult & { checks: ScenarioCheckResult[] }> {
  const sessionId = `scn-${scenario.id}${variant ? `--${variant.id}` : ''}-${env.runTag}`;
  const tmpDir = fs.mkdtempSync(path.join(env.tmpRoot, `${scenario.number}-`));
  const expect = expectationOf(scenario, variant);
  const checks: ScenarioCheckResult[] = [];
  const cleanups: (() => void | Promise<void>)[] = [];
  const runtimes: Faultline[] = [];
  const runtime = (options: Partial<FaultlineOptions>) => {
    const f = init({
      serviceName: 'faultline-scenarios',
      endpoint: env.endpoint,
      ingestKey: env.ingestKey,
      spoolDir: fs.mkdtempSync(path.join(tmpDir, 'spool-')),
      ...options,
    });
    runtimes.push(f);
    return f;
  };
  let triggeredAt = 0;
  let onTrigger: () => void = () => {};
  const triggered = new Promise<void>((resolve) => (onTrigger = resolve));
  const ctx: CaseContext = {
    scenario,
    variant,
    expect,
    sessionId,
    api: env.api,
    faultline: runtime({}),
    tmpDir,
    runtime,
    trigger() {
      if (triggeredAt === 0) triggeredAt = performance.now();
      onTrigger();
    },
    check(name, passed, detail) {
      checks.push(detail === undefined ? { name, passed } : { name, passed, detail });
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
  };

  let detection: Detection | null = null;
  let lastSeen: Session | null = null;
  let playError: unknown = null;
  const playing = driver.play(ctx).catch((err) => {
    playError = err;
    onTrigger();
  });
  try {
    await triggered;
    if (playError === null) {
      const deadline = triggeredAt + expect.budgetMs + GRACE_MS;
      const accept = (s: Session) => matches(expect, s);
      while (performance.now() < deadline && playError === null && !detection) {
        const wait = Math.min(FALLBACK_POLL_MS, deadline - performance.now());
        // Pushed: timed when it arrived. Read from the API (stream missed it): timed after the read.
        const seen = (await env.live.waitFor(sessionId, accept, wait)) ?? (await env.api.session(sessionId));
        const detectMs = Math.round(performance.now() - triggeredAt);
        if (!seen) continue;
        lastSeen = seen;
        if (!accept(seen)) continue;
        const detail = await env.api.sessionDetail(sessionId);
        if (detail && (!driver.arrived || driver.arrived(detail))) detection = { detectMs, session: seen, detail };
        // Not arrived yet (a case that expects no error): wait for the next change.
        else if (driver.arrived) await sleep(200);
      }
    }
    await playing;
    if (playError !== null) {
      ctx.check('runtime played the fault', false, `the simulated runtime threw: ${(playError as Error)?.message ?? String(playError)}`);
    } else if (!detection) {
      ctx.check('detected', false, `not detected within ${expect.budgetMs + GRACE_MS} ms: ${describeSeen(lastSeen ?? env.live.get(sessionId))}`);
    } else {
      const over = detection.detectMs > expect.budgetMs;
      ctx.check('detected within budget', !over, `${detection.detectMs} ms (budget ${expect.budgetMs} ms)`);
      // Let the rest of the runtime's spans arrive before looking at the whole session.
      await Promise.all(runtimes.map((f) => f.flush()));
      await sharedChecks(ctx, detection, driver);
      if (driver.verify) await driver.verify(ctx, detection);
    }
  } catch (err) {
    ctx.check('harness', false, err instanceof ApiError ? err.message : String((err as Error)?.stack ?? err));
  } finally {
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
    await Promise.all(runtimes.map((f) => f.shutdown()));
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }

  const failed = checks.find((c) => !c.passed);
  const passedCount = checks.length;
  return {
    id: variant?.id ?? 'main',
    passed: !failed,
    detectedCode: detection?.session.lastError?.code ?? lastSeen?.lastError?.code ?? null,
    detectedState: detection?.session.state ?? lastSeen?.state ?? null,
    detectMs: detection?.detectMs ?? null,
    sessionId,
    detail: failed
      ? `${failed.name}: ${failed.detail ?? 'failed'}`
      : `${expect.code ?? 'no error'} and ${expect.state} in ${detection!.detectMs} ms; ${passedCount} checks passed`,
    checks,
  };
}

/** failure-taxonomy §5, cross-cutting: status before error, a complete error row, failed not stuck, friendly words. */
async function sharedChecks(ctx: CaseContext, seen: Detection, driver: CaseDriver): Promise<void> {
  const { expect } = ctx;
  const fresh = (await ctx.api.sessionDetail(ctx.sessionId)) ?? seen.detail;
  const session = fresh.session;
  if (expect.code === null) {
    const errors = await ctx.api.errorsOf(ctx.sessionId);
    ctx.check('no error recorded', errors.length === 0 && session.lastError === null, errors.map((e) => e.code).join(', ') || undefined);
    ctx.check('not stuck', !session.stuck);
    return;
  }
  const entry = getCatalogEntry(expect.code)!;
  ctx.check('friendly message', session.lastError?.message === expect.message, `lastError.message = ${JSON.stringify(session.lastError?.message)}`);

  const errors = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === expect.code);
  const row = errors[0];
  ctx.check(
    'error row complete',
    !!row && row.sessionId === ctx.sessionId && row.category === entry.category && row.retryable === entry.retryable && row.message === expect.message,
    row ? `${row.code} ${row.category} retryable=${row.retryable} session=${row.sessionId}` : 'no error row with the expected code',
  );

  if (expect.code !== STUCK_CODE && row) {
    // The timeline is in span start order (microseconds); `at` is shown to the millisecond, so a
    // status and the error that follows it can print the same time. Order is what counts.
    const errorIndex = fresh.timeline.findIndex((i) => row.spanId !== null && i.spanId === row.spanId);
    const statuses = fresh.timeline.filter((i, index) => i.kind === 'status' && (errorIndex >= 0 ? index < errorIndex : i.at < row.at));
    const before = statuses[statuses.length - 1];
    const wanted = driver.statusBeforeError ?? expect.state;
    ctx.check(
      'status precedes error',
      !!before && before.at <= row.at && before.state === wanted,
      before ? `last status before the error: ${before.state} at ${before.at}, error at ${row.at}` : 'no status span before the error',
    );
  }

  if (expect.code === STUCK_CODE) {
    ctx.check('flagged stuck', session.stuck && session.stuckKind === 'running_silent', `stuck=${session.stuck} kind=${session.stuckKind}`);
  } else {
    ctx.check('not stuck', !session.stuck, session.stuckKind ?? undefined);
  }
  if (ctx.variant === null && ctx.scenario.expectFailed) {
    const failed = await ctx.api.failedSessions(ctx.sessionId);
    ctx.check('listed as failed', failed.some((s) => s.id === ctx.sessionId), `${failed.length} failed sessions match the id`);
  }
}

/** All cases of one scenario: the main one and every variant, concurrently. */
export async function runScenario(env: HarnessEnv, scenario: ScenarioDescription, driver: ScenarioDriver): Promise<ScenarioRunResult> {
  const missing = scenario.variants.filter((v) => !driver.variants[v.id]);
  const [main, ...variants] = await Promise.all([
    runCase(env, scenario, null, driver.main()),
    ...scenario.variants.filter((v) => driver.variants[v.id]).map((v) => runCase(env, scenario, v, driver.variants[v.id]())),
  ]);
  const variantResults: ScenarioVariantResult[] = variants.map(({ checks, ...v }) => ({
    ...v,
    detail: v.passed ? v.detail : `${v.detail} [${checks.filter((c) => !c.passed).length} failed]`,
  }));
  const failedVariant = variantResults.find((v) => !v.passed);
  const passed = main.passed && !failedVariant && missing.length === 0;
  let detail = main.detail;
  if (!main.passed) detail = `main: ${main.detail}`;
  else if (failedVariant) detail = `variant ${failedVariant.id}: ${failedVariant.detail}`;
  else if (missing.length) detail = `no driver for variant(s) ${missing.map((v) => v.id).join(', ')}`;
  else if (variantResults.length) detail = `${main.detail}; ${variantResults.length} variant(s) passed`;
  return {
    scenarioId: scenario.id,
    passed,
    detectedCode: main.detectedCode,
    detectedState: main.detectedState,
    detectMs: main.detectMs,
    sessionId: main.sessionId,
    detail,
    checks: main.checks,
    variants: variantResults,
  };
}
