/**
 * Scenarios 11–12 (seed 001): the agent is a CLI (claude, gemini) run as a child process. The
 * timeout kills a real hanging process group; the missing binary is a real ENOENT from spawn; the
 * signed-out CLI is a real executable on PATH that exits 41 like Gemini CLI.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withTimeout } from '@faultline/sdk';
import type { LatestOutput } from '@faultline/schema';
import type { CaseDriver, ScenarioDriver } from '../harness.ts';
import { collect, exitOf, groupAlive, spawnShell } from './processes.ts';

const CLI_TIMEOUT_MS = 2000;
const PROMPT = 'Refactor the billing module and run the tests.';

/** What seed 001's runner raises when the CLI exits non-zero. */
class CliExitError extends Error {
  override name = 'CliExitError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} CLI failed (exit ${exitCode})`);
  }
}

/** Seed 001's orchestrator after the fix: it reads the latest output *or error* before re-prompting. */
function nextOrchestratorStep(latest: LatestOutput, lastPrompt: string): { action: 'reinject' | 'report_error' | 'continue'; prompt?: string } {
  if (latest.kind === 'error') return { action: 'report_error' };
  if (latest.kind === 'none') return { action: 'reinject', prompt: lastPrompt };
  return { action: 'continue' };
}

const cliExecTimeout = (): CaseDriver => {
  let groupId = 0;
  return {
    async play(ctx) {
      const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'claude-code', provider: 'anthropic', state: 'ready' });
      await session
        .turn('claude -p', async (turn) => {
          ctx.trigger();
          const text = await withTimeout(
            'cli_exec',
            CLI_TIMEOUT_MS,
            async (signal) => {
              // A fake `claude` that hangs (a shell with a child); its own process group so the whole tree can be killed.
              const child = spawnShell('sleep 10; echo done', { detached: true });
              groupId = child.pid!;
              ctx.onCleanup(() => void (groupId > 0 && groupAlive(groupId) && process.kill(-groupId, 'SIGKILL')));
              signal.addEventListener('abort', () => process.kill(-groupId, 'SIGKILL'), { once: true });
              const out = collect(child.stdout);
              await exitOf(child);
              return out();
            },
            { label: 'claude exec' },
          );
          turn.output(text);
          return text;
        })
        .catch(() => {});
    },
    async verify(ctx) {
      // A fresh read, as after a page refresh, and what an orchestrator reads.
      const latest = await ctx.api.latest(ctx.sessionId);
      ctx.check(
        'latest output is the error',
        latest.kind === 'error' && latest.error?.code === ctx.expect.code && latest.text === ctx.expect.message,
        `${latest.kind}: ${latest.text}`,
      );
      const step = nextOrchestratorStep(latest, PROMPT);
      ctx.check('orchestrator does not re-send the prompt', step.action !== 'reinject', step.action);
      ctx.check('CLI process group killed', groupId !== 0 && !groupAlive(groupId), `pgid ${groupId}`);
    },
  };
};

const notRetried: CaseDriver['verify'] = async (ctx, seen) => {
  const errors = await ctx.api.errorsOf(ctx.sessionId);
  const retried = seen.detail.timeline.some((i) => i.kind === 'status' && i.state === 'retrying');
  ctx.check('not retried', errors.length === 1 && !retried, `${errors.length} occurrences, retrying status: ${retried}`);
};

const cliNotFound: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'claude-code', provider: 'anthropic', state: 'ready' });
    await session
      .turn('claude -p', async () => {
        ctx.trigger();
        // PATH holds only an empty directory: the spawn itself fails with ENOENT.
        const child = spawn('claude', ['-p', PROMPT], { env: { PATH: ctx.tmpDir }, stdio: 'ignore' });
        await new Promise((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', resolve);
        });
      })
      .catch(() => {});
  },
  verify: notRetried,
};

const cliNotSignedIn: CaseDriver = {
  async play(ctx) {
    const bin = path.join(ctx.tmpDir, 'bin');
    fs.mkdirSync(bin);
    const gemini = path.join(bin, 'gemini');
    fs.writeFileSync(
      gemini,
      "#!/bin/sh\necho 'Error: No authentication information found. Please set an Auth method in your settings or GEMINI_API_KEY.' >&2\nexit 41\n",
      { mode: 0o755 },
    );
    const session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'gemini-cli', provider: 'gcp.gemini', state: 'ready' });
    await session
      .turn('gemini -p', async () => {
        ctx.trigger();
        const child = spawn('gemini', ['-p', PROMPT], { env: { PATH: bin }, stdio: ['ignore', 'pipe', 'pipe'] });
        const stderr = collect(child.stderr);
        const exit = await exitOf(child);
        if (exit.code !== 0) throw new CliExitError('gemini', exit.code, stderr());
      })
      .catch(() => {});
  },
  verify: notRetried,
};

export const cliDrivers: Record<string, ScenarioDriver> = {
  'cli-exec-timeout': { main: cliExecTimeout, variants: {} },
  'cli-missing-or-signed-out': { main: () => cliNotFound, variants: { 'not-signed-in': () => cliNotSignedIn } },
};
