/**
 * Scenarios 4–7 (seed 003): a Temporal-style workflow runs the agent as an activity on a worker
 * process. The worker is a real child process; the "server" side (timeouts) is simulated here and
 * fails the activity with objects shaped like @temporalio/common's failures, limits shrunk.
 */
import type { ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { CaseDriver, ScenarioDriver } from '../harness.ts';
import { alive, collect, exitOf, killQuietly, spawnShell } from './processes.ts';

type TimeoutType = 'SCHEDULE_TO_START' | 'START_TO_CLOSE' | 'SCHEDULE_TO_CLOSE' | 'HEARTBEAT';

/** Shaped like @temporalio/common TimeoutFailure. */
class TimeoutFailure extends Error {
  override name = 'TimeoutFailure';
  constructor(
    message: string,
    readonly lastHeartbeatDetails: unknown,
    readonly timeoutType: TimeoutType,
  ) {
    super(message);
  }
}
/** Shaped like @temporalio/common ApplicationFailure. */
class ApplicationFailure extends Error {
  override name = 'ApplicationFailure';
  constructor(
    message: string,
    readonly type: string,
    readonly nonRetryable: boolean,
  ) {
    super(message);
  }
}
/** Shaped like @temporalio/common ActivityFailure: says little itself, the cause says what. */
class ActivityFailure extends Error {
  override name = 'ActivityFailure';
  readonly activityType = 'ExecuteGraphton';
  readonly retryState = 'MAXIMUM_ATTEMPTS_REACHED';
  constructor(message: string, override readonly cause: Error) {
    super(message);
  }
}

const activityTimedOut = (type: TimeoutType, lastHeartbeatDetails?: unknown) =>
  new ActivityFailure('Activity task timed out', new TimeoutFailure(`Activity task timed out (${type})`, lastHeartbeatDetails, type));

const STARTUP_BANNER = [
  'ERROR ❌ Fatal error in worker: cannot import name "MultipartEncoder" from "multipart"',
  '================================================================================',
  'STARTUP FAILURE: Activity Registration Error',
  '================================================================================',
  "ImportError: cannot import name 'MultipartEncoder' from 'multipart'",
].join('\n');

/** The agent-runner at boot: prints stigmer's banner and exits 1. */
function spawnBrokenWorker(): ChildProcess {
  return spawnShell(`cat >&2 <<'EOF'\n${STARTUP_BANNER}\nEOF\nexit 1`);
}

/** A worker that reports one event per `everyMs` on stdout, forever. */
function spawnWorker(everyMs: number): ChildProcess {
  const seconds = (everyMs / 1000).toFixed(3);
  return spawnShell(`n=0; while :; do n=$((n+1)); printf '{"events_processed":%d,"phase":"executing"}\\n' "$n"; sleep ${seconds}; done`);
}

const SCHEDULE_TO_START_MS = 2000;
const HEARTBEAT_TIMEOUT_MS = 1000;
const START_TO_CLOSE_MS = 1500;

const workerStartupFailed: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'graphton', state: 'starting', statusMessage: 'Waiting for an agent worker…' });
    const worker = spawnBrokenWorker();
    ctx.onCleanup(() => killQuietly(worker));
    // The execution is scheduled; no worker polls the queue, so ScheduleToStart fires.
    ctx.trigger();
    const pickedUp = new Promise<never>(() => {});
    const scheduleToStart = new Promise<never>((_r, reject) => setTimeout(() => reject(activityTimedOut('SCHEDULE_TO_START')), SCHEDULE_TO_START_MS));
    try {
      await Promise.race([pickedUp, scheduleToStart]);
    } catch (error) {
      session.fail(error);
    }
  },
  async verify(ctx, seen) {
    const message = seen.session.lastError?.message ?? '';
    ctx.check('not a generic "Activity timeout"', !/activity (task )?time(d)? ?out/i.test(message), message);
    const [row] = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === ctx.expect.code);
    const type = row?.attributes['faultline.temporal.timeout_type'];
    ctx.check('Temporal timeout type kept', type === 'SCHEDULE_TO_START', `faultline.temporal.timeout_type = ${JSON.stringify(type)}`);
  },
};

class WorkerStartupError extends Error {
  override name = 'WorkerStartupError';
  constructor(
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`agent worker exited with code ${exitCode} during startup`);
  }
}

const preflightProbe: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'graphton', state: 'starting', statusMessage: 'Starting the agent worker…' });
    ctx.trigger();
    const worker = spawnBrokenWorker();
    const stderr = collect(worker.stderr);
    const exit = await exitOf(worker);
    if (exit.code !== 0) session.fail(new WorkerStartupError(exit.code, stderr()), { operation: 'worker_startup' });
  },
};

const workerCrashed: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'graphton', state: 'ready' });
    await session
      .turn('execute', async () => {
        const worker = spawnWorker(30);
        ctx.onCleanup(() => killQuietly(worker));
        let last: { events_processed: number; phase: string } | null = null;
        await new Promise<never>((_resolve, reject) => {
          let timer: ReturnType<typeof setTimeout> | null = null;
          // The server's heartbeat timeout: restarted by every heartbeat.
          const arm = () => {
            if (timer) clearTimeout(timer);
            timer = setTimeout(() => reject(activityTimedOut('HEARTBEAT', last)), HEARTBEAT_TIMEOUT_MS);
          };
          arm();
          const lines = readline.createInterface({ input: worker.stdout! });
          lines.on('line', (line) => {
            if (worker.killed) return;
            last = JSON.parse(line) as { events_processed: number; phase: string };
            session.heartbeat(last);
            arm();
            if (last.events_processed === 10) {
              ctx.trigger();
              worker.kill('SIGKILL');
            }
          });
        });
      })
      .catch(() => {});
  },
  async verify(ctx, seen) {
    const errors = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === ctx.expect.code);
    const details = String(errors[0]?.attributes['faultline.temporal.last_heartbeat_details'] ?? '');
    ctx.check('last heartbeat details on the error', /"events_processed":10\b/.test(details) && /"phase":"executing"/.test(details), details);
    const beats = seen.detail.timeline.filter((i) => i.kind === 'heartbeat' && i.details.events_processed !== undefined);
    ctx.check('progress heartbeats before the crash', beats.some((b) => Number(b.details.events_processed) === 10), `${beats.length} heartbeats with progress`);
    ctx.check('no retry (MaximumAttempts=1)', errors.length === 1, `${errors.length} occurrences`);
  },
};

const activityStartToClose: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'graphton', state: 'ready' });
    await session
      .turn('execute', async () => {
        const worker = spawnWorker(100);
        ctx.onCleanup(() => killQuietly(worker));
        ctx.onCleanup(() => void ctx.check('worker process stopped', !alive(worker.pid!)));
        readline.createInterface({ input: worker.stdout! }).on('line', (line) => session.heartbeat(JSON.parse(line)));
        ctx.trigger();
        await new Promise<never>((_resolve, reject) =>
          setTimeout(() => {
            worker.kill('SIGKILL');
            reject(activityTimedOut('START_TO_CLOSE'));
          }, START_TO_CLOSE_MS),
        );
      })
      .catch(() => {});
  },
  async verify(ctx, seen) {
    const beats = seen.detail.timeline.filter((i) => i.kind === 'heartbeat' && i.details.events_processed !== undefined);
    const errorAt = seen.session.lastError?.at ?? '';
    const late = beats.filter((b) => b.at > new Date(Date.parse(errorAt) - 600).toISOString());
    ctx.check('heartbeats kept arriving until the limit', late.length > 0, `${beats.length} heartbeats, ${late.length} in the last 600 ms before the error`);
  },
};

const applicationError = (message: string, type: string): CaseDriver => ({
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'graphton', state: 'ready' });
    await session
      .turn('execute', async () => {
        ctx.trigger();
        throw new ActivityFailure('Activity task failed', new ApplicationFailure(message, type, true));
      })
      .catch(() => {});
  },
  async verify(ctx, seen) {
    const [row] = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === ctx.expect.code);
    const shown = [seen.session.lastError?.message, seen.session.statusMessage, row?.message].join(' ');
    ctx.check('raw message never shown to the user', !shown.includes(message), shown);
  },
});

export const workerDrivers: Record<string, ScenarioDriver> = {
  'worker-startup-failed': { main: () => workerStartupFailed, variants: { 'preflight-probe': () => preflightProbe } },
  'worker-crashed': { main: () => workerCrashed, variants: {} },
  'activity-start-to-close': { main: () => activityStartToClose, variants: {} },
  'activity-application-error': {
    main: () => applicationError('test error', 'ValueError'),
    variants: { 'init-phase': () => applicationError('could not load the agent configuration', 'AgentInitError') },
  },
};
