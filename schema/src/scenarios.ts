/**
 * The documented fault scenarios (failure-taxonomy §5): each real incident from the seeds as an
 * executable check — what is injected, which code, state and words must reach the collector, and
 * how fast. The drivers in scenarios/ (@faultline/scenarios) play them through the SDK against a live collector;
 * `GET /api/scenarios` serves these descriptions with their last run; docs/scenarios.md is
 * generated from them. Pure data: this file also runs in the browser dashboard.
 */
import { renderUserMessage, STUCK_CODE } from './catalog.ts';
import type { ScenarioDescription, ScenarioVariant } from './api.ts';

/** Checked on every scenario's main session (failure-taxonomy §5, last list). */
export const CROSS_CUTTING_CHECKS: readonly string[] = [
  'A `faultline.session.status` span announcing the new state precedes the error in the timeline.',
  'The error occurrence is stored with its code, category, retryable and session id (GET /api/errors?session=…).',
  'The session counts as failed (`GET /api/sessions?failed=true`) and not as stuck — except where the terminal status is deliberately missing (scenario 13).',
  'The session\'s `lastError.message` is the catalog\'s friendly words, never the raw technical message.',
];

/**
 * Time the pipeline itself may add in a run: the SDK's batch delay (0.5 s), export, ingest and the
 * live push. About 0.7 s on an idle machine; the rest is room for a loaded CI machine running
 * thirteen scenarios and other suites at once. Still far below every production limit it stands in for.
 */
export const PIPELINE_ALLOWANCE_MS = 5000;

const ANTHROPIC = { provider: 'anthropic', model: 'claude-sonnet-4-5' } as const;
const words = (code: string, vars: { provider?: string; model?: string } = {}) => renderUserMessage(code, vars);

type Draft = Omit<ScenarioDescription, 'timeToDetectMs' | 'expectedMessage' | 'provider' | 'model' | 'variants'> & {
  provider?: string;
  model?: string;
  variants?: Omit<ScenarioVariant, 'expectedMessage'>[];
};

function scenario(d: Draft): ScenarioDescription {
  const vars = { provider: d.provider, model: d.model };
  return {
    ...d,
    provider: d.provider ?? null,
    model: d.model ?? null,
    expectedMessage: words(d.expectedCode, vars),
    timeToDetectMs: d.timeToDetect.testMs,
    variants: (d.variants ?? []).map((v) => ({ ...v, expectedMessage: v.expectedCode === null ? null : words(v.expectedCode, vars) })),
  };
}

export const SCENARIOS: readonly ScenarioDescription[] = Object.freeze([
  scenario({
    id: 'sandbox-config-missing',
    number: 1,
    title: 'Sandbox configuration missing',
    seed: '000',
    source: 'failure-taxonomy §5.1; seed 000 "Modal context is required"',
    description:
      'The runtime had no Modal credentials. The REST call answered 200 and the UI stayed on "Creating execution environment…" forever; the error existed only in a server log.',
    trigger:
      'Start a session with no Modal credentials and send a message: ExecutionEnvironment.create throws "Modal context is required" before any Modal call.',
    expectedCode: 'AGT-SANDBOX-CONFIG-MISSING',
    expectedState: 'error',
    stateFlow: 'starting ("Creating execution environment…") → error',
    expectFailed: true,
    timeToDetect: {
      production: 'under 1 s',
      productionMs: 1000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink: the failure is immediate',
    },
    checks: [
      'The status message no longer reads "Creating execution environment…".',
      'The message request itself was accepted (fire-and-forget), yet the error reaches the collector.',
    ],
  }),
  scenario({
    id: 'sandbox-create-failed',
    number: 2,
    title: 'Sandbox creation fails',
    seed: '000',
    source: 'failure-taxonomy §5.2; Modal AuthError / image build failure',
    description: 'Creating the workspace failed (Modal rejected the credentials); the user saw only a spinner.',
    trigger: 'A stub ExecutionEnvironment.create throws a Modal-style AuthError on both attempts; the runtime retries once, then gives up.',
    expectedCode: 'AGT-SANDBOX-CREATE-FAILED',
    expectedState: 'error',
    stateFlow: 'starting → retrying → error',
    expectFailed: true,
    timeToDetect: {
      production: 'create latency + one retry, under the 90 s `starting` watchdog',
      productionMs: 90_000,
      testMs: 300 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'each create attempt fails after 100 ms; retry backoff 100 ms',
    },
    checks: [
      'The timeline shows the `retrying` status between `starting` and `error` (one automatic retry).',
      'Exactly one error occurrence: the first failure is retried, not surfaced.',
    ],
  }),
  scenario({
    id: 'sandbox-died',
    number: 3,
    title: 'Sandbox dies mid-session',
    seed: '000',
    source: 'failure-taxonomy §5.3; seed 000 health loop; harbor-framework/harbor #2955 (137 on terminate)',
    description:
      'The sandbox was terminated from outside while the agent worked. Modal reports both an OOM kill and our own terminate() as exit 137, so an unrecorded terminate reads as out-of-memory.',
    trigger:
      'A real child process plays the sandbox; during a turn it is killed from outside (SIGTERM, exit 143). The health loop polls every 100 ms and raises SandboxTerminatedError.',
    expectedCode: 'AGT-SANDBOX-TERMINATED',
    expectedState: 'error',
    stateFlow: 'ready → running → error (a turn was active)',
    expectFailed: true,
    timeToDetect: {
      production: 'the 30 s health-loop interval',
      productionMs: 30_000,
      testMs: 100 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'health loop every 100 ms instead of 30 s',
    },
    checks: ['The exit code the health loop saw is on the error (`cli.exit_code` 143).'],
    variants: [
      {
        id: 'unrequested-137',
        title: 'Unrequested exit 137 is out-of-memory',
        trigger: 'The sandbox process is SIGKILLed (exit 137) while the runtime had not asked for termination.',
        expectedCode: 'AGT-SANDBOX-OOM',
        expectedState: 'error',
      },
      {
        id: 'own-terminate',
        title: 'Our own terminate() is not out-of-memory',
        trigger: 'The runtime records that it asked for termination, then SIGKILLs the sandbox (exit 137, as Modal reports terminate()).',
        expectedCode: 'AGT-SANDBOX-TERMINATED',
        expectedState: 'stopped',
      },
    ],
  }),
  scenario({
    id: 'worker-startup-failed',
    number: 4,
    title: 'Worker fails to start',
    seed: '003',
    source: 'failure-taxonomy §5.4; seed 003 Test 1 (ImportError at boot)',
    description:
      'The agent-runner died at boot with an ImportError. Nothing polled the task queue, and after ScheduleToStart the user read only "Activity timeout".',
    trigger:
      'The worker is a real child process that prints a STARTUP FAILURE banner and exits 1; the execution waits for a worker until ScheduleToStart fires a Temporal-style TimeoutFailure.',
    expectedCode: 'AGT-TIMEOUT-SCHEDULE-TO-START',
    expectedState: 'error',
    stateFlow: 'starting → error',
    expectFailed: true,
    timeToDetect: {
      production: 'the 60 s ScheduleToStart limit',
      productionMs: 60_000,
      testMs: 2000 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'ScheduleToStart shrunk to 2 s',
    },
    checks: ['The user message is the catalog\'s, not a generic "Activity timeout".', 'The Temporal timeout type is kept on the error (`faultline.temporal.timeout_type`).'],
    variants: [
      {
        id: 'preflight-probe',
        title: 'Pre-flight probe sees the crash at once',
        trigger: 'A start probe spawns the worker, reads its exit 1 and STARTUP FAILURE banner, and reports it before any timeout.',
        expectedCode: 'AGT-WORKER-STARTUP-FAILED',
        expectedState: 'error',
      },
    ],
  }),
  scenario({
    id: 'worker-crashed',
    number: 5,
    title: 'Worker crashes mid-execution',
    seed: '003',
    source: 'failure-taxonomy §5.5; seed 003 Test 2 (SIGKILL after 10 events)',
    description: 'The worker was killed partway through; without a heartbeat timeout the user waited the full 10-minute StartToClose.',
    trigger:
      'A real worker process heartbeats once per event; after 10 events it is SIGKILLed. The heartbeat timeout fires a Temporal-style TimeoutFailure(HEARTBEAT) with the last heartbeat details; MaximumAttempts=1.',
    expectedCode: 'AGT-TIMEOUT-HEARTBEAT',
    expectedState: 'error',
    stateFlow: 'running → error',
    expectFailed: true,
    timeToDetect: {
      production: 'the 30 s heartbeat timeout (not the 10 min StartToClose)',
      productionMs: 30_000,
      testMs: 1000 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'heartbeat timeout shrunk to 1 s; events every 30 ms',
    },
    checks: [
      'The last heartbeat details are on the error (events_processed = 10, phase).',
      'The session\'s heartbeats carried the progress before the crash.',
      'No retry: a single error occurrence.',
    ],
  }),
  scenario({
    id: 'activity-start-to-close',
    number: 6,
    title: 'Activity exceeds its time limit',
    seed: '003',
    source: 'failure-taxonomy §5.6; Temporal StartToClose',
    description: 'An activity kept heartbeating but never finished; it must read as "took too long", not as a crash.',
    trigger: 'A real worker process heartbeats every 100 ms and never finishes; StartToClose fires a Temporal-style TimeoutFailure(START_TO_CLOSE).',
    expectedCode: 'AGT-TIMEOUT-START-TO-CLOSE',
    expectedState: 'error',
    stateFlow: 'running → error',
    expectFailed: true,
    timeToDetect: {
      production: 'the configured StartToClose (10 min)',
      productionMs: 600_000,
      testMs: 1500 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'StartToClose shrunk to 1.5 s',
    },
    checks: ['Heartbeats kept arriving until the limit (so it is a time limit, not a heartbeat timeout).', 'The worker process is stopped.'],
  }),
  scenario({
    id: 'activity-application-error',
    number: 7,
    title: 'Activity application error',
    seed: '003',
    source: 'failure-taxonomy §5.7; seed 003 Test 3 (ValueError("test error"))',
    description: 'An exception inside the execution surfaced only in worker logs.',
    trigger: 'The activity raises ValueError("test error"), delivered as a Temporal-style ApplicationFailure (non-retryable) inside an ActivityFailure.',
    expectedCode: 'AGT-WORKER-EXECUTION-FAILED',
    expectedState: 'error',
    stateFlow: 'running → error',
    expectFailed: true,
    timeToDetect: {
      production: 'immediate',
      productionMs: 1000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink',
    },
    checks: ['The raw "test error" text never reaches what the user reads (status message, last error, occurrence message).'],
    variants: [
      {
        id: 'init-phase',
        title: 'Failure before execution begins',
        trigger: 'The activity fails while initialising: ApplicationFailure "System error: could not load the agent configuration".',
        expectedCode: 'AGT-WORKER-INIT-FAILED',
        expectedState: 'error',
      },
    ],
  }),
  scenario({
    id: 'provider-billing',
    number: 8,
    title: 'Provider billing error on a turn',
    seed: '004',
    source: 'failure-taxonomy §5.8; openclaw #70124 / #70848',
    description:
      'Anthropic answered 400 invalid_request_error "credit balance is too low"; the gateway decided surface_error, fell through, and the webchat rendered nothing.',
    trigger:
      'A stub Anthropic call throws a 400 invalid_request_error "Your credit balance is too low…" during a turn; no fallback model is configured.',
    expectedCode: 'AGT-PROVIDER-BILLING',
    expectedState: 'error',
    stateFlow: 'running → error (no retry)',
    expectFailed: true,
    ...ANTHROPIC,
    timeToDetect: {
      production: 'immediate',
      productionMs: 1000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink',
    },
    checks: [
      'The message names the provider and the model.',
      'The normalised status is 402 and the upstream status 400 is kept.',
      'No retry: no `retrying` status, one error occurrence.',
    ],
    variants: [
      {
        id: 'user-stop',
        title: 'User pressed stop',
        trigger: 'The user stops the turn after partial output; the run is aborted externally.',
        expectedCode: 'AGT-SESSION-CANCELLED',
        expectedState: 'ready',
      },
      {
        id: 'stale-error-text',
        title: 'Stale billing text on a successful turn',
        trigger: 'The turn succeeds, but the provider result still carries billing text from an earlier attempt.',
        expectedCode: null,
        expectedState: 'ready',
      },
    ],
  }),
  scenario({
    id: 'rate-limit-rotate',
    number: 9,
    title: 'Rate limit, rotate profile, recover',
    seed: '004',
    source: 'failure-taxonomy §5.9; openclaw failover policy rotate_profile',
    description: 'A 429 on the first auth profile must be recorded (for operators) without failing the user\'s turn when the next profile answers.',
    trigger: 'A stub provider (real HTTP) answers 429 rate_limit_error with Retry-After: 1 for profile A and 200 for profile B.',
    expectedCode: 'AGT-PROVIDER-RATE-LIMIT',
    expectedState: 'ready',
    stateFlow: 'running → retrying → running → ready',
    expectFailed: false,
    ...ANTHROPIC,
    timeToDetect: {
      production: '1–2 s',
      productionMs: 2000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink',
    },
    checks: [
      'The rate-limit error is non-terminal: decision `rotate_profile` on the error, the session ends `ready`.',
      'The latest output for orchestrators is the answer, not the error.',
    ],
    variants: [
      {
        id: 'all-profiles-limited',
        title: 'Every profile is rate-limited',
        trigger: 'Both profiles answer 429 and no fallback is configured.',
        expectedCode: 'AGT-PROVIDER-RATE-LIMIT',
        expectedState: 'error',
      },
    ],
  }),
  scenario({
    id: 'turn-start-failed',
    number: 10,
    title: 'sendTurn fails after the client\'s dispatch succeeded',
    seed: '002',
    source: 'failure-taxonomy §5.10; pingdotgg/t3code #1960',
    description:
      'The dispatch HTTP call succeeded, then the provider\'s sendTurn rejected; the session never left "Working for…" because no status was written.',
    trigger: 'A real HTTP dispatch answers 202, then the provider adapter\'s sendTurn rejects.',
    expectedCode: 'AGT-SESSION-TURN-START-FAILED',
    expectedState: 'error',
    stateFlow: 'ready → running → error, then a follow-up turn → running → ready',
    expectFailed: true,
    timeToDetect: {
      production: 'one snapshot round trip (guard: dispatch_unacked stuck < 15 s)',
      productionMs: 15_000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink',
    },
    checks: ['The status message is the friendly copy, no "Working…" left behind.', 'A follow-up turn on the same session succeeds and the session is `ready` again.'],
    variants: [
      {
        id: 'provider-mismatch',
        title: 'Provider switch refused',
        trigger: 'sendTurn rejects with "Thread is bound to driver codex; cannot switch models".',
        expectedCode: 'AGT-SESSION-PROVIDER-MISMATCH',
        expectedState: 'error',
      },
    ],
  }),
  scenario({
    id: 'cli-exec-timeout',
    number: 11,
    title: 'CLI exec timeout, seen by the orchestrator',
    seed: '001',
    source: 'failure-taxonomy §5.11; seed 001 ("claude exec timed out", errors lost on refresh)',
    description:
      'The CLI hung; the error was only broadcast (gone after a refresh) and the orchestrator, reading only assistant output, re-sent the same prompt.',
    trigger: 'A fake `claude` (a real child process that sleeps 10 s) runs under withTimeout(cli_exec); at the limit its process group is killed.',
    expectedCode: 'AGT-TIMEOUT-CLI-EXEC',
    expectedState: 'error',
    stateFlow: 'running → error',
    expectFailed: true,
    timeToDetect: {
      production: 'the CLI timeout (300 s)',
      productionMs: 300_000,
      testMs: 2000 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'CLI timeout shrunk to 2 s',
    },
    checks: [
      'GET /api/sessions/:id/latest (a fresh read, as after a page refresh) returns the error with its friendly text.',
      'The orchestrator, deciding from that answer, does not re-send the identical prompt.',
      'The fake CLI\'s process group is gone.',
    ],
  }),
  scenario({
    id: 'cli-missing-or-signed-out',
    number: 12,
    title: 'CLI missing or not signed in',
    seed: '001',
    source: 'failure-taxonomy §5.12; seed 001 "CLI not found in PATH"; Gemini CLI exit 41',
    description: 'A missing binary or a signed-out CLI looked like a generic failure and was retried.',
    trigger: 'Spawn a CLI that is not on PATH (a real ENOENT from spawn).',
    expectedCode: 'AGT-CLI-NOT-FOUND',
    expectedState: 'error',
    stateFlow: 'running → error',
    expectFailed: true,
    timeToDetect: {
      production: 'under 1 s',
      productionMs: 1000,
      testMs: PIPELINE_ALLOWANCE_MS,
      testSetup: 'nothing to shrink',
    },
    checks: ['Not retried: one error occurrence, no `retrying` status.'],
    variants: [
      {
        id: 'not-signed-in',
        title: 'CLI not signed in',
        trigger: 'A fake CLI (real child process) prints "No authentication information found" and exits 41.',
        expectedCode: 'AGT-CLI-AUTH-REQUIRED',
        expectedState: 'error',
      },
    ],
  }),
  scenario({
    id: 'forgotten-terminal-status',
    number: 13,
    title: 'Runtime forgets its terminal status',
    seed: '002',
    source: 'DESIGN §5 stuck watchdog; seed 002 "Working for…", seed 000 stuck "Creating…"',
    description:
      'The run ended but the runtime never reported it: no error, no status, just silence. The UI showed "Working for…" forever. Only the collector\'s watchdog can notice.',
    trigger:
      'A runtime reports progress while running, then its turn ends without any terminal status (a missing emit) and nothing more arrives. The session asks for a 3 s stuck threshold (faultline.session.stuck_after_ms).',
    expectedCode: STUCK_CODE,
    expectedState: 'running',
    stateFlow: 'running → (silence) → flagged stuck',
    expectFailed: false,
    timeToDetect: {
      production: 'the 60 s running threshold + one sweep (2 s)',
      productionMs: 62_000,
      testMs: 3000 + 2000 + PIPELINE_ALLOWANCE_MS,
      testSetup: 'per-session threshold 3 s; the collector\'s default 2 s sweep',
    },
    checks: [
      'The session is flagged stuck with kind `running_silent` and stays in `running` (the watchdog flags, it does not change state).',
      'One AGT-SESSION-STUCK occurrence is recorded.',
      'It is not flagged before its threshold has passed.',
    ],
  }),
] satisfies ScenarioDescription[]);

const BY_ID: ReadonlyMap<string, ScenarioDescription> = new Map(SCENARIOS.map((s) => [s.id, s]));

export function getScenario(id: string | null | undefined): ScenarioDescription | undefined {
  return typeof id === 'string' ? BY_ID.get(id) : undefined;
}
