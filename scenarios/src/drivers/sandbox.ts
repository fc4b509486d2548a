/**
 * Scenarios 1–3 (seed 000): the runtime's execution environment (a Modal sandbox) is missing its
 * configuration, cannot be created, or dies mid-session. The sandbox is a real child process; the
 * health loop polls it the way seed 000's 30 s loop polls Modal, only faster.
 */
import type { ChildProcess } from 'node:child_process';
import type { Session } from '@faultline/sdk';
import type { CaseContext, CaseDriver, ScenarioDriver } from '../harness.ts';
import { exitOf, exitStatus, killQuietly, sleep, spawnShell, stubServer } from './processes.ts';

const CREATING = 'Creating execution environment…';

/** Modal's Python/TS clients raise errors by class name; the classifier reads the name. */
class AuthError extends Error {
  override name = 'AuthError';
}
class SandboxTerminatedError extends Error {
  override name = 'SandboxTerminatedError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
/** What the health loop raises for exit 137: ambiguous, so it carries whether we asked for it. */
class SandboxExitError extends Error {
  override name = 'SandboxExitError';
  constructor(
    readonly exitCode: number,
    readonly terminationRequested: boolean,
  ) {
    super(`sandbox exited with status ${exitCode}`);
  }
}

const sandboxConfigMissing: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'coder', state: 'starting', statusMessage: CREATING });
    // The message endpoint answers at once; the environment is created in the background (seed 000).
    let background: Promise<void> = Promise.resolve();
    const api = await stubServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
      background = createEnvironment(ctx, session, {});
    });
    ctx.onCleanup(api.close);
    const res = await fetch(`${api.url}/sessions/${ctx.sessionId}/messages`, { method: 'POST', body: '{"text":"hello"}' });
    ctx.check('message request accepted (fire-and-forget)', res.status === 200, `HTTP ${res.status}`);
    await background;
  },
  async verify(ctx, seen) {
    const message = seen.session.statusMessage;
    ctx.check('status message moved on', message !== CREATING && message === ctx.expect.message, `statusMessage = ${JSON.stringify(message)}`);
  },
};

/** Seed 000's ExecutionEnvironment.create: it throws before any Modal call without credentials. */
async function createEnvironment(ctx: CaseContext, session: Session, modal: { tokenId?: string; tokenSecret?: string }): Promise<void> {
  const create = async () => {
    if (!modal.tokenId || !modal.tokenSecret) {
      ctx.trigger();
      throw new Error('Modal context is required');
    }
  };
  try {
    await create();
  } catch (error) {
    session.fail(error, { operation: 'sandbox_create' });
  }
}

const sandboxCreateFailed: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'coder', state: 'starting', statusMessage: CREATING });
    const create = async () => {
      await sleep(100);
      throw new AuthError('Token ID is malformed or has been revoked. Run `modal token new` to create a new token.');
    };
    ctx.trigger();
    for (let attempt = 1; ; attempt++) {
      try {
        await create();
        return;
      } catch (error) {
        if (attempt < 2) {
          session.status('retrying', 'Retrying workspace creation…');
          await sleep(100);
          continue;
        }
        session.fail(error, { operation: 'sandbox_create' });
        return;
      }
    }
  },
  async verify(ctx, seen) {
    const states = seen.detail.timeline.filter((i) => i.kind === 'status').map((i) => i.state);
    ctx.check('one automatic retry', states.join(' → ') === 'starting → retrying → error', states.join(' → '));
    const errors = await ctx.api.errorsOf(ctx.sessionId);
    ctx.check('first failure retried, not surfaced', errors.length === 1, `${errors.length} error occurrences`);
  },
};

/**
 * A sandbox (child process) and the runtime's health loop. `exec()` stands for work running in it;
 * it fails when the loop sees the sandbox gone.
 */
function startSandbox(ctx: CaseContext, onUnexpectedExit?: (error: Error) => void) {
  const child: ChildProcess = spawnShell('exec sleep 60');
  ctx.onCleanup(() => killQuietly(child));
  let terminationRequested = false;
  let pending: ((error: Error) => void) | null = null;
  const exited = exitOf(child);
  let exitCode: number | null = null;
  void exited.then((exit) => (exitCode = exitStatus(exit)));
  const health = setInterval(() => {
    if (exitCode === null) return;
    clearInterval(health);
    // Exit 137 is also what Modal reports for our own terminate(): say whether we asked (harbor #2955).
    const error =
      exitCode === 137
        ? new SandboxExitError(exitCode, terminationRequested)
        : new SandboxTerminatedError(`sandbox terminated unexpectedly (exit ${exitCode}); health check failed`, exitCode);
    if (pending) pending(error);
    else onUnexpectedExit?.(error);
  }, 100);
  ctx.onCleanup(() => clearInterval(health));
  return {
    child,
    exec: () => new Promise<never>((_resolve, reject) => (pending = reject)),
    terminate() {
      terminationRequested = true;
      child.kill('SIGKILL');
    },
  };
}

function diesDuringTurn(kill: (child: ChildProcess) => void): CaseDriver['play'] {
  return async (ctx) => {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'coder', state: 'starting', statusMessage: CREATING });
    const sandbox = startSandbox(ctx);
    session.status('ready', 'Workspace ready');
    await session
      .turn('reply', async () => {
        setTimeout(() => {
          ctx.trigger();
          kill(sandbox.child);
        }, 200);
        await sandbox.exec();
      })
      .catch(() => {});
  };
}

const sandboxDied: CaseDriver = {
  play: diesDuringTurn((child) => child.kill('SIGTERM')),
  async verify(ctx) {
    const [row] = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === ctx.expect.code);
    const exit = row?.attributes['cli.exit_code'];
    ctx.check('exit status on the error', Number(exit) === 143, `cli.exit_code = ${JSON.stringify(exit)}`);
  },
};

const unrequested137: CaseDriver = {
  // The process kills itself with SIGKILL, as the OOM killer would.
  play: diesDuringTurn((child) => child.kill('SIGKILL')),
};

const ownTerminate: CaseDriver = {
  statusBeforeError: 'stopped',
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'coder', state: 'starting', statusMessage: CREATING });
    const sandbox = startSandbox(ctx, (error) => session.fail(error, { state: 'stopped' }));
    session.status('ready', 'Workspace ready');
    await sleep(200);
    // The user closed the session: we terminate the sandbox ourselves.
    ctx.trigger();
    sandbox.terminate();
    await exitOf(sandbox.child);
  },
  async verify(ctx) {
    const codes = (await ctx.api.errorsOf(ctx.sessionId)).map((e) => e.code);
    ctx.check('not read as out-of-memory', !codes.includes('AGT-SANDBOX-OOM'), codes.join(', '));
  },
};

export const sandboxDrivers: Record<string, ScenarioDriver> = {
  'sandbox-config-missing': { main: () => sandboxConfigMissing, variants: {} },
  'sandbox-create-failed': { main: () => sandboxCreateFailed, variants: {} },
  'sandbox-died': { main: () => sandboxDied, variants: { 'unrequested-137': () => unrequested137, 'own-terminate': () => ownTerminate } },
};
