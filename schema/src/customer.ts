/**
 * "What to tell the customer": a short paragraph a support person can paste, derived from a
 * session's state, its stuck flag, its last error and the retries its producer recorded. One
 * definition: the API returns it with a session (`GET /api/sessions/:id`) and the dashboard shows
 * that text. It claims a retry only when one was recorded, and never says "try again" for a code
 * whose retryable flag says retrying will not help.
 *
 * Pure data and functions: this file also runs in the browser dashboard.
 */
import { getCatalogEntry, STUCK_CODE, NOT_SURFACED_CODE } from './catalog.ts';
import type { Retryable } from './catalog-types.ts';
import { LOG_ERROR_EVENTS } from './log-events.ts';
import type { SessionState } from './states.ts';

export interface CustomerMessageSession {
  state: SessionState | null;
  stuck: boolean;
  lastError: { code: string; message: string } | null;
  errorCount: number;
}

export interface CustomerMessageOptions {
  /** Retries the producer recorded (see `retriesRecorded`); 0 or absent: none are claimed. */
  retries?: number;
  /** The last error's retryable flag when its code is not in the built-in catalog (an operator's code). */
  retryable?: Retryable | null;
}

/** What the customer is advised, by the last error's retryable flag. */
const ADVICE: Record<Retryable, string> = {
  yes: 'This is usually temporary: please try again in a few minutes.',
  once: 'Trying once more usually works; if it fails again, tell us and we will look into it.',
  no: 'Trying again will not help until the cause is fixed; we will let you know when it is.',
  user: 'You can try again; if it stops the same way, a smaller or simpler request, or a new session, usually gets through.',
};

/** The advice when the error's own words already invite a retry. */
const ADVICE_AFTER_INVITE: Record<Retryable, string> = {
  yes: 'This is usually temporary; if it keeps happening, tell us and we will look into it.',
  once: 'If it fails again, tell us and we will look into it.',
  no: ADVICE.no,
  user: 'If it stops the same way again, a smaller or simpler request, or a new session, usually gets through.',
};

const CANCELLED_CODE = 'AGT-SESSION-CANCELLED';

function times(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`;
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** The paragraph for a customer, in plain words (no codes, no internal names). */
export function customerMessage(session: CustomerMessageSession, options: CustomerMessageOptions = {}): string {
  const retries = Math.max(0, Math.floor(options.retries ?? 0));
  const error = session.lastError;
  const retryable = error ? (getCatalogEntry(error.code)?.retryable ?? options.retryable ?? 'once') : null;
  const retried = retries > 0 ? `We retried it ${times(retries)} before it stopped.` : null;

  if (session.stuck || error?.code === STUCK_CODE) {
    return [
      'Your request stopped making progress: the agent still looked busy, but nothing more happened and no error was shown to you.',
      'We have flagged the session and are looking into why it stalled.',
      'You do not need to keep the page open; trying again will not help until we know the cause, and we will let you know.',
    ].join(' ');
  }
  if (session.state === 'completed') {
    if (session.errorCount > 0 && error) {
      return `Your request finished successfully. It ran into a problem along the way (“${error.message}”), but recovered from it, so there is nothing you need to do.`;
    }
    return 'Your request finished successfully, and we see no error for it on our side. If something still looks wrong, tell us what you expected to see.';
  }
  if (error?.code === CANCELLED_CODE) {
    return 'The run was stopped on request; nothing went wrong on our side. You can start a new one whenever you like.';
  }
  if (error?.code === NOT_SURFACED_CODE) {
    return 'Your request ran into a problem that was not shown to you at the time — we are sorry about that. We are looking into what went wrong and will let you know.';
  }
  if (session.state === 'retrying') {
    const what = error ? ` (“${error.message}”)` : '';
    return `Your request hit a temporary problem${what} and is being retried right now. There is nothing you need to do yet.`;
  }
  if (session.state === 'waiting_input') {
    return 'The agent is waiting for your answer before it can continue. Please check the conversation for its question.';
  }
  if (session.state === 'starting' || session.state === 'running' || session.state === 'ready') {
    return error
      ? `Your request is still being worked on. It ran into a problem earlier (“${error.message}”), but it is still going, so there is nothing you need to do yet.`
      : 'Your request is still being worked on and nothing has gone wrong so far.';
  }
  if (error) {
    const opening = session.state === 'stopped' ? 'Your request was stopped:' : 'Your request did not finish:';
    // The user message may already say to try again ("… Please try again in a minute."): say it once.
    const advice = /try again|try sending/i.test(error.message) && retryable !== 'no' ? ADVICE_AFTER_INVITE[retryable!] : ADVICE[retryable!];
    return [`${opening} ${sentence(error.message)}`, retried, advice].filter(Boolean).join(' ');
  }
  if (session.state === 'stopped') return 'Your request was stopped before it finished; we see no error for it on our side.';
  return 'We see no error for this request on our side. If something looks wrong, tell us what you expected to see.';
}

/** Attribute keys in which agent CLIs report how many attempts they made (`attempt`, `total_attempts`). */
const ATTEMPT_KEYS = [...new Set(Object.values(LOG_ERROR_EVENTS).flatMap((e) => e.attempt ?? []))];

/**
 * How many retries a session's producer recorded: the times it entered the `retrying` state, or an
 * agent CLI's attempt count on an error (attempt 3 = 2 retries), whichever is larger. Nothing
 * recorded: 0, and no one may claim a retry happened.
 */
export function retriesRecorded(
  timeline: readonly { kind: string; state?: string | null; error?: { attributes: Record<string, unknown> } }[],
): number {
  let statuses = 0;
  let attempts = 0;
  let previous: string | null = null;
  for (const item of timeline) {
    if (item.kind === 'status') {
      if (item.state === 'retrying' && previous !== 'retrying') statuses += 1;
      previous = item.state ?? null;
    }
    const attributes = item.error?.attributes;
    if (!attributes) continue;
    for (const key of ATTEMPT_KEYS) {
      const n = Number(attributes[key]);
      if (Number.isInteger(n) && n > 1) attempts = Math.max(attempts, n - 1);
    }
  }
  return Math.max(statuses, attempts);
}
