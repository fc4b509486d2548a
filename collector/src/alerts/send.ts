/**
 * Sending one delivery. A worker leases a due delivery in a short transaction — `FOR UPDATE SKIP
 * LOCKED` on the delivery and its destination, so among several collectors on one Postgres one
 * takes it, and a destination is paced across all of them (`next_send_at`: its minimum interval,
 * or the receiver's Retry-After). The HTTP request runs outside any transaction; its outcome is
 * written back under the lease token. A collector that dies mid-request leaves a lease that
 * expires (timeout + margin); then the delivery goes again with the same id, for the receiver to
 * drop as a repeat.
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { scrubSecrets } from '@faultline/schema';
import { DELIVERY_ID_HEADER, type DestinationKind } from '@faultline/schema/api';
import type { Store } from '../store/db.ts';

export interface Claimed {
  id: string;
  body: string;
  attempts: number;
  giveUpAt: number;
  leaseToken: string;
  destination: { id: string; name: string; kind: DestinationKind; url: string; secret: string | null };
}

const CLAIM = `
with next as (
  select d.id as delivery_id, t.id as destination_id
  from alert_deliveries d join alert_destinations t on t.id = d.destination_id
  where d.status in ('pending', 'retrying') and d.next_attempt_at <= $1::timestamptz
    and (d.lease_until is null or d.lease_until < $1::timestamptz)
    and (t.next_send_at is null or t.next_send_at <= $1::timestamptz)
  order by d.next_attempt_at, d.created_at, d.id
  limit 1
  for update of d, t skip locked
), paced as (
  update alert_destinations t set next_send_at = $1::timestamptz + make_interval(secs => t.min_interval_ms / 1000.0)
  from next where t.id = next.destination_id
  returning t.id, t.name, t.kind, t.url, t.secret
)
update alert_deliveries d set lease_until = $2::timestamptz, lease_token = $3, attempts = d.attempts + 1, last_attempt_at = $1::timestamptz
from next, paced where d.id = next.delivery_id
returning d.id, d.body, d.attempts, extract(epoch from d.give_up_at) * 1000 as give_up_ms,
  paced.id as destination_id, paced.name as destination_name, paced.kind as destination_kind, paced.url, paced.secret`;

export async function claimDelivery(store: Store, nowMs: number, leaseMs: number): Promise<Claimed | null> {
  const token = randomUUID();
  const [r] = await store.transaction((tx) =>
    tx.query<{
      id: string; body: string; attempts: number; give_up_ms: number | string; destination_id: string; destination_name: string;
      destination_kind: DestinationKind; url: string; secret: string | null;
    }>(CLAIM, [new Date(nowMs).toISOString(), new Date(nowMs + leaseMs).toISOString(), token]),
  );
  if (!r) return null;
  return {
    id: r.id,
    body: r.body,
    attempts: r.attempts,
    giveUpAt: Number(r.give_up_ms),
    leaseToken: token,
    destination: { id: r.destination_id, name: r.destination_name, kind: r.destination_kind, url: r.url, secret: r.secret },
  };
}

export type Outcome =
  | { result: 'sent'; status: number; body: string }
  /** Worth another try (network, timeout, 408, 429, 5xx); `retryAfterMs` from the receiver, if it said. */
  | { result: 'retry'; status: number | null; body: string | null; error: string; retryAfterMs: number | null }
  /** The receiver refused it for good (another 4xx, a redirect). */
  | { result: 'refused'; status: number; body: string; error: string };

/** The receiver's answer kept for the log; more is noise (and could be large). */
const MAX_RESPONSE_CHARS = 2000;

/** Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

async function readSome(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < MAX_RESPONSE_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, MAX_RESPONSE_CHARS);
}

/** The URL (Slack's carries its credential) never reaches the log, the database or an answer. */
export function withoutUrl(text: string, url: string): string {
  let out = text.split(url).join('<destination URL>');
  try {
    const u = new URL(url);
    if (u.pathname.length > 1) out = out.split(u.pathname).join('/…');
  } catch {
    // not a URL: nothing more to hide
  }
  return scrubSecrets(out);
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `No answer within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return `Could not reach the receiver: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}

export interface SendOptions {
  timeoutMs: number;
  userAgent: string;
  fetch?: typeof fetch;
}

/** One HTTP attempt. Never throws: every failure is an outcome. */
export async function attemptDelivery(c: Claimed, nowMs: number, options: SendOptions): Promise<Outcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    [DELIVERY_ID_HEADER]: c.id,
  };
  if (c.destination.secret) {
    // Standard Webhooks (standardwebhooks.com): webhook-id is the delivery id, stable across
    // attempts; the timestamp is the wall clock's (receivers check it against theirs).
    const timestamp = new Date();
    headers['webhook-id'] = c.id;
    headers['webhook-timestamp'] = String(Math.floor(timestamp.getTime() / 1000));
    headers['webhook-signature'] = new Webhook(c.destination.secret).sign(c.id, timestamp, c.body);
  }
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(c.destination.url, {
      method: 'POST',
      headers,
      body: c.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    return { result: 'retry', status: null, body: null, error: withoutUrl(describeFailure(err, options.timeoutMs), c.destination.url), retryAfterMs: null };
  }
  let body = '';
  try {
    body = withoutUrl(await readSome(res), c.destination.url);
  } catch {
    // the status is the answer; a body that broke off does not change it
  }
  const status = res.status;
  if (status >= 200 && status < 300) return { result: 'sent', status, body };
  if (status === 408 || status === 429 || status >= 500) {
    return {
      result: 'retry',
      status,
      body,
      error: status === 429 ? 'The receiver asked to slow down (HTTP 429)' : `The receiver answered HTTP ${status}`,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), nowMs),
    };
  }
  const why =
    status >= 300 && status < 400
      ? `The receiver answered with a redirect (HTTP ${status}); use the final URL`
      : `The receiver refused the notification (HTTP ${status}); retrying will not help — check the destination's URL${c.destination.secret ? ' and secret' : ''}`;
  return { result: 'refused', status, body, error: why };
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

/** Exponential backoff with jitter: between half and all of min(max, base · 2^(attempt−1)). */
export function backoffMs(attempt: number, o: BackoffOptions): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (o.random ?? Math.random)() * (ceiling / 2));
}

const RECORD = `
update alert_deliveries set status = $3, next_attempt_at = $4::timestamptz, sent_at = $5::timestamptz, response_status = $6,
  response_body = $7, error = $8, lease_until = null, lease_token = null
where id = $1 and lease_token = $2`;

export type Recorded = 'sent' | 'retrying' | 'failed';

export async function recordOutcome(store: Store, c: Claimed, outcome: Outcome, nowMs: number, backoff: BackoffOptions): Promise<Recorded> {
  const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  if (outcome.result === 'sent') {
    await store.query(RECORD, [c.id, c.leaseToken, 'sent', null, at(nowMs), outcome.status, outcome.body, null]);
    return 'sent';
  }
  if (outcome.result === 'refused') {
    await store.query(RECORD, [c.id, c.leaseToken, 'failed', null, null, outcome.status, outcome.body, outcome.error]);
    return 'failed';
  }
  const wait = outcome.retryAfterMs ?? backoffMs(c.attempts, backoff);
  const next = nowMs + wait;
  if (outcome.retryAfterMs !== null) {
    // The receiver's limit holds for everything sent to it, not only this delivery.
    await store.query('update alert_destinations set next_send_at = greatest(coalesce(next_send_at, $2::timestamptz), $2::timestamptz) where id = $1', [c.destination.id, at(next)]);
  }
  if (next > c.giveUpAt) {
    const error = `Gave up after ${c.attempts} attempt${c.attempts === 1 ? '' : 's'}: ${outcome.error}`;
    await store.query(RECORD, [c.id, c.leaseToken, 'failed', null, null, outcome.status, outcome.body, error]);
    return 'failed';
  }
  await store.query(RECORD, [c.id, c.leaseToken, 'retrying', at(next), null, outcome.status, outcome.body, outcome.error]);
  return 'retrying';
}
