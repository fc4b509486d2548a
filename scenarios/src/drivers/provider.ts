/**
 * Scenarios 8–9 (seed 004, openclaw): provider failures during an assistant turn. Errors are
 * shaped like the Anthropic TypeScript SDK's (`status`, `error: {type: 'error', error: {type,
 * message}}`, `request_id`); the rate-limit scenario talks real HTTP to a stub provider.
 */
import { ATTR } from '@faultline/schema';
import type { SessionDetail } from '@faultline/schema';
import type { CaseDriver, ScenarioDriver } from '../harness.ts';
import { sleep, stubServer } from './processes.ts';

const AGENT = { agent: 'webchat', provider: 'anthropic', model: 'claude-sonnet-4-5' } as const;
const BILLING_TEXT = 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.';

/** Shaped like @anthropic-ai/sdk APIError subclasses. */
class AnthropicApiError extends Error {
  readonly error: { type: 'error'; error: { type: string; message: string } };
  readonly request_id: string;
  constructor(
    override readonly name: string,
    readonly status: number,
    type: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${JSON.stringify({ type: 'error', error: { type, message } })}`);
    this.error = { type: 'error', error: { type, message } };
    this.request_id = `req_scn${Math.random().toString(36).slice(2, 12)}`;
  }
}
/** @anthropic-ai/sdk's error for a request the caller aborted. */
class APIUserAbortError extends Error {
  override name = 'APIUserAbortError';
  constructor() {
    super('Request was aborted.');
  }
}

const billing: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, ...AGENT, state: 'ready' });
    await session
      .turn('reply', async (turn) => {
        // No fallback model configured: openclaw's policy decides surface_error and, since #70848, throws.
        turn.setAttributes({ [ATTR.failoverDecision]: 'surface_error', 'faultline.failover.suspend': true });
        ctx.trigger();
        throw new AnthropicApiError('BadRequestError', 400, 'invalid_request_error', BILLING_TEXT);
      })
      .catch(() => {});
  },
  async verify(ctx, seen) {
    const message = seen.session.lastError?.message ?? '';
    ctx.check('names provider and model', message.includes('Anthropic') && message.includes('claude-sonnet-4-5'), message);
    const errors = await ctx.api.errorsOf(ctx.sessionId);
    const row = errors.find((e) => e.code === ctx.expect.code);
    ctx.check('status 402, upstream 400', row?.httpStatus === 402 && row?.upstreamStatus === 400, `http ${row?.httpStatus}, upstream ${row?.upstreamStatus}`);
    const retried = seen.detail.timeline.some((i) => i.kind === 'status' && i.state === 'retrying');
    ctx.check('no retry', !retried && errors.length === 1, `${errors.length} occurrences, retrying status: ${retried}`);
  },
};

const PARTIAL = 'Here is the first half of the migration plan: 1. snapshot the database';

const userStop: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, ...AGENT, state: 'ready' });
    const stop = new AbortController();
    await session.turn('reply', async (turn) => {
      turn.output(PARTIAL);
      const answer = new Promise<string>((_resolve, reject) => stop.signal.addEventListener('abort', () => reject(new APIUserAbortError())));
      setTimeout(() => {
        ctx.trigger();
        stop.abort();
      }, 100);
      try {
        return await answer;
      } catch (error) {
        // An external abort is the user's decision, not a failure: back to ready with the partial output.
        session.fail(error, { state: 'ready' });
        return PARTIAL;
      }
    });
  },
  async verify(ctx, seen) {
    const turn = seen.detail.timeline.find((i) => i.code === 'AGT-SESSION-CANCELLED' && i.details.spanType === 'turn');
    ctx.check('partial output kept', turn?.details[ATTR.outputText] === PARTIAL, JSON.stringify(turn?.details[ATTR.outputText]));
  },
};

const ANSWER = 'Done: the deploy script now retries failed uploads.';

const staleErrorText: CaseDriver = {
  async play(ctx) {
    const session = ctx.faultline.startSession({ id: ctx.sessionId, ...AGENT, state: 'ready' });
    ctx.trigger();
    await session.turn('reply', async (turn) => {
      // The run result still carries the previous attempt's error text next to a good answer.
      const result = { text: ANSWER, stopReason: 'end_turn', errorMessage: BILLING_TEXT };
      turn.setAttributes({ 'gen_ai.response.finish_reasons': [result.stopReason], 'openclaw.run.error_message': result.errorMessage });
      turn.output(result.text);
      return result.text;
    });
  },
  arrived: (detail: SessionDetail) => detail.timeline.some((i) => i.kind === 'turn' && i.details[ATTR.outputText] === ANSWER),
  async verify(ctx) {
    const latest = await ctx.api.latest(ctx.sessionId);
    ctx.check('latest is the answer', latest.kind === 'output' && latest.text === ANSWER, `${latest.kind}: ${latest.text}`);
  },
};

/** openclaw-style failover over auth profiles; every call is real HTTP to the stub provider. */
function rotateOver(profiles: string[]): CaseDriver['play'] {
  return async (ctx) => {
    const provider = await stubServer((req, res) => {
      if (req.headers['x-api-key'] === 'profile-b-key') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ content: [{ type: 'text', text: ANSWER }], stop_reason: 'end_turn' }));
        return;
      }
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'request-id': 'req_scn_ratelimit' })
        .end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }));
    });
    ctx.onCleanup(provider.close);
    const call = async (profile: string, keyHeader: string): Promise<string> => {
      const res = await fetch(`${provider.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': keyHeader }, body: '{}' });
      const body = (await res.json()) as { content?: { text: string }[]; error?: { type: string; message: string } };
      if (!res.ok) {
        throw new AnthropicApiError('RateLimitError', res.status, body.error!.type, body.error!.message, { 'retry-after': res.headers.get('retry-after') ?? '' });
      }
      return body.content![0].text;
    };

    const session = ctx.faultline.startSession({ id: ctx.sessionId, ...AGENT, state: 'ready' });
    await session
      .turn('reply', async (turn) => {
        for (const [i, profile] of profiles.entries()) {
          const last = i === profiles.length - 1;
          if (i === 0) ctx.trigger();
          const attempt = await session.turn(`attempt ${profile}`, async (a): Promise<{ text: string } | { error: unknown; final?: boolean }> => {
            a.setAttributes({ 'faultline.auth.profile': profile });
            try {
              return { text: await call(profile, `${profile}-key`) };
            } catch (error) {
              if (last) {
                // No fallback configured: surface the rate limit (status first, then the error).
                session.fail(error);
                return { error, final: true };
              }
              // Not the user's failure: recorded for operators, the session retries with the next profile.
              a.setAttributes({ [ATTR.failoverDecision]: 'rotate_profile' });
              session.fail(error, { state: 'retrying' });
              return { error };
            }
          });
          if ('text' in attempt) {
            turn.output(attempt.text);
            return attempt.text;
          }
          if (attempt.final) throw attempt.error;
          // The SDK ends a failed span 1 ms after its status; keep the next status after it.
          await sleep(2);
          session.status('running', `Retrying with another auth profile (${profiles[i + 1]})`);
        }
        throw new Error('unreachable');
      })
      .catch(() => {});
  };
}

const rateLimitRecover: CaseDriver = {
  statusBeforeError: 'retrying',
  play: rotateOver(['profile-a', 'profile-b']),
  async verify(ctx, seen) {
    const states = seen.detail.timeline.filter((i) => i.kind === 'status').map((i) => i.state);
    ctx.check('running → retrying → running → ready', states.join(' → ').endsWith('running → retrying → running → ready'), states.join(' → '));
    const [row] = (await ctx.api.errorsOf(ctx.sessionId)).filter((e) => e.code === ctx.expect.code);
    ctx.check('decision rotate_profile', row?.attributes[ATTR.failoverDecision] === 'rotate_profile', JSON.stringify(row?.attributes[ATTR.failoverDecision]));
    const latest = await ctx.api.latest(ctx.sessionId);
    ctx.check('latest is the answer', latest.kind === 'output' && latest.text === ANSWER, `${latest.kind}: ${latest.text}`);
  },
};

const allProfilesLimited: CaseDriver = {
  play: rotateOver(['profile-a', 'profile-c']),
};

export const providerDrivers: Record<string, ScenarioDriver> = {
  'provider-billing': { main: () => billing, variants: { 'user-stop': () => userStop, 'stale-error-text': () => staleErrorText } },
  'rate-limit-rotate': { main: () => rateLimitRecover, variants: { 'all-profiles-limited': () => allProfilesLimited } },
};
