/**
 * Scenario 10 (seed 002, t3code #1960): the client's dispatch succeeds, then the provider's
 * sendTurn rejects. Scenario 13: the runtime forgets its terminal status and only the
 * collector's watchdog can notice.
 */
import { STUCK_CODE } from '@faultline/schema';
import type { Session } from '@faultline/sdk';
import type { CaseContext, CaseDriver, ScenarioDriver } from '../harness.ts';
import { sleep, stubServer } from './processes.ts';

class ProviderAdapterRequestError extends Error {
  override name = 'ProviderAdapterRequestError';
}

const ANSWER = 'Renamed the function and updated its three call sites.';

/**
 * The server side of t3code's thread.turn.start: the HTTP dispatch answers at once, the reactor
 * then asks the provider adapter to send the turn.
 */
async function dispatchThenSend(ctx: CaseContext, session: Session, sendTurn: () => Promise<string>): Promise<void> {
  let reactor: Promise<unknown> = Promise.resolve();
  const server = await stubServer((_req, res) => {
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
    session.status('running', 'Working…');
    reactor = session
      .turn('reply', async (turn) => {
        try {
          const text = await sendTurn();
          turn.output(text);
          return text;
        } catch (error) {
          // Recorded with what the reactor knows, and the turn ends here. Rethrowing an error fail()
          // recorded on this same turn span makes the SDK mark the span "propagated", and the
          // collector then drops the only occurrence (reported to the SDK owner).
          session.fail(error, { operation: 'turn_start' });
          return null;
        }
      })
      .catch(() => {});
  });
  ctx.onCleanup(server.close);
  const res = await fetch(`${server.url}/threads/${ctx.sessionId}/turns`, { method: 'POST', body: '{"text":"rename foo to bar"}' });
  ctx.check('client dispatch succeeded', res.status === 202, `HTTP ${res.status}`);
  await reactor;
}

const turnStartFailed = (message: string) => (): CaseDriver => {
  let session: Session;
  return {
  async play(ctx) {
    session = ctx.faultline.startSession({ id: ctx.sessionId, agent: 'codex', provider: 'openai', model: 'gpt-5-codex', state: 'ready' });
    await dispatchThenSend(ctx, session, async () => {
      ctx.trigger();
      throw new ProviderAdapterRequestError(message);
    });
  },
  async verify(ctx, seen) {
    const statusMessage = seen.session.statusMessage ?? '';
    ctx.check('no "Working…" left behind', statusMessage === ctx.expect.message, JSON.stringify(statusMessage));
    // The user sends again, with the provider the thread is bound to: it must work.
    await dispatchThenSend(ctx, session, async () => ANSWER);
    let latest = await ctx.api.latest(ctx.sessionId);
    for (let i = 0; i < 50 && !(latest.kind === 'output' && latest.state === 'ready'); i++) {
      await sleep(100);
      latest = await ctx.api.latest(ctx.sessionId);
    }
    ctx.check('follow-up turn succeeds', latest.kind === 'output' && latest.text === ANSWER && latest.state === 'ready', `${latest.kind} in ${latest.state}`);
  },
  };
};

const STUCK_AFTER_MS = 3000;

const forgottenTerminalStatus: CaseDriver = {
  async play(ctx) {
    // This runtime heartbeats on progress (as stigmer does every few events), not on a timer.
    const runtime = ctx.runtime({ heartbeatIntervalMs: 0 });
    const session = runtime.startSession({ id: ctx.sessionId, agent: 'coder', state: 'ready', stuckAfterMs: STUCK_AFTER_MS });
    session.status('running', 'Working…');
    for (let events = 1; events <= 3; events++) {
      await sleep(100);
      session.heartbeat({ events_processed: events, phase: 'executing' });
    }
    // The turn is over, but the code path that reports `ready` was skipped: from here on, silence,
    // counted from when the collector has the last sign of life.
    await runtime.flush();
    ctx.trigger();
  },
  async verify(ctx, seen) {
    // Measured on the collector's own clock: from the last span it had to the flag.
    const silentMs = Date.parse(seen.session.stuckSince ?? '') - Date.parse(seen.session.lastSeenAt);
    ctx.check('not flagged before its threshold', silentMs >= STUCK_AFTER_MS, `flagged ${silentMs} ms after the last sign of life it had seen`);
    const stuck = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === STUCK_CODE);
    ctx.check('one stuck occurrence', stuck.length === 1, `${stuck.length} occurrences`);
    ctx.check('still running (flag, not state)', seen.session.state === 'running', String(seen.session.state));
  },
};

export const sessionDrivers: Record<string, ScenarioDriver> = {
  'turn-start-failed': {
    main: turnStartFailed('provider.turn.start.failed: the codex app-server rejected the turn (adapter threw while sending)'),
    variants: { 'provider-mismatch': turnStartFailed('Thread is bound to driver codex; cannot switch models to claude-sonnet-4-5.') },
  },
  'forgotten-terminal-status': { main: () => forgottenTerminalStatus, variants: {} },
};
