/**
 * Stuck detection (DESIGN §5). Spans are exported only when they end, so a hung run sends
 * nothing: the watchdog notices the silence. A session in starting/running/retrying whose last
 * sign of life is older than its threshold is flagged with a kind, gets one AGT-SESSION-STUCK
 * occurrence per stall, and is pushed to live viewers. A later span clears the flag (write-batch.ts).
 */
import { DEFAULT_ABANDONED_AFTER_MS, STUCK_CODE, fingerprint, getCatalogEntry, renderUserMessage } from '@faultline/schema';
import type { Config } from '../config.ts';
import type { SqlRunner, Store } from '../store/db.ts';
import { upsertGroups } from '../store/write-batch.ts';
import type { EnrichedError } from '../ingest/enrich.ts';
import { describeForLog } from '../errors.ts';

// Silent far beyond any threshold (a collector restarted after a quiet weekend, a runtime that
// vanished): abandoned, not a fresh stall — no occurrence, no stuck event, no alert, and it
// leaves "stuck now" and "active now". A new span clears the mark (write-batch.ts).
const MARK_ABANDONED = `
update sessions set abandoned_at = now(), stuck = false, stuck_kind = null, stuck_since = null, stuck_acknowledged_at = null,
  updated_at = now()
where abandoned_at is null and state in ('starting', 'running', 'retrying', 'waiting_input')
  and last_seen_at < now() - make_interval(secs => $1::float8 / 1000.0)
returning id`;

// Silent: no span for the state's threshold (the per-session override beats the default).
// Wall clock: still `running` long after it began, heartbeats or not.
// A stall an operator dismissed is not flagged again until a newer sign of life (silent) or a
// newer status change (wall clock).
const FLAG_STUCK = `
with due as (
  select id, case
    when last_seen_at < now() - make_interval(secs => coalesce(stuck_after_ms,
      case state when 'starting' then $1::int when 'running' then $2::int else $3::int end) / 1000.0)
      and (stuck_dismissed_at is null or stuck_dismissed_at < last_seen_at)
      then case state when 'running' then 'running_silent' else state end
    when state = 'running' and state_at < now() - make_interval(secs => $7::int / 1000.0)
      and (stuck_dismissed_at is null or stuck_dismissed_at < state_at) then 'running_wallclock'
  end as kind
  from sessions
  where not stuck and abandoned_at is null and state in ('starting', 'running', 'retrying')
)
update sessions s set stuck = true, stuck_since = now(), stuck_kind = due.kind,
  error_count = s.error_count + 1,
  last_error_code = $4, last_error_category = $5, last_error_message = $6, last_error_at = now(),
  updated_at = now()
from due
where s.id = due.id and due.kind is not null
returning s.id, s.service, s.state, s.stuck_kind, s.provider, s.model, s.last_seen_at, s.state_at, s.last_trace_id,
  extract(epoch from s.stuck_since) * 1e6 as stuck_us`;

const INSERT_STUCK_ERRORS = `
insert into errors (id, at, session_id, trace_id, span_id, service, code, category, message, technical_message,
  fingerprint, http_status, retryable, attributes, classifier_rule, classifier_signal)
select t.id, to_timestamp(t.at_us / 1e6), t.session_id, t.trace_id, null, t.service, $6, $7, t.message, t.technical,
  $8, $9, $10, t.attributes, 'watchdog', t.signal
from unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[], $11::text[], $12::text[], $13::jsonb[], $14::text[])
  as t(id, at_us, session_id, trace_id, service, message, technical, attributes, signal)
on conflict (id) do nothing`;

export interface StuckSweepResult {
  flagged: string[];
  /** Sessions this sweep marked abandoned (silent past abandonedAfterMs), never flagged. */
  abandoned: string[];
}

/** Runs inside the sweep's transaction with the sessions it flagged (alerts write their outbox rows here). */
export type StuckHook = (tx: SqlRunner, flagged: { id: string; stuckUs: number }[]) => Promise<unknown>;

export async function markStuckSessions(
  store: Store,
  thresholds: Config['stuckThresholdsMs'],
  wallclockMs: number,
  inTransaction: StuckHook = async () => {},
  abandonedAfterMs: number = DEFAULT_ABANDONED_AFTER_MS,
): Promise<StuckSweepResult> {
  const entry = getCatalogEntry(STUCK_CODE)!;
  return store.transaction(async (tx) => {
    const abandoned = (await tx.query<{ id: string }>(MARK_ABANDONED, [abandonedAfterMs])).map((r) => r.id);
    const rows = await tx.query<{
      id: string; service: string; state: string; stuck_kind: string; provider: string | null; model: string | null;
      last_seen_at: Date | string; state_at: Date | string | null; last_trace_id: string | null; stuck_us: number | string;
    }>(FLAG_STUCK, [thresholds.starting, thresholds.running, thresholds.retrying, entry.code, entry.category, entry.userMessage, wallclockMs]);
    if (rows.length === 0) return { flagged: [], abandoned };
    const c: unknown[][] = Array.from({ length: 9 }, () => []);
    const groupInputs: { error: EnrichedError; atUs: number }[] = [];
    const fp = fingerprint({ code: entry.code, exceptionType: null, message: 'no progress' });
    for (const r of rows) {
      const lastSeen = new Date(r.last_seen_at);
      const message = renderUserMessage(entry, { provider: r.provider, model: r.model });
      const wallclock = r.stuck_kind === 'running_wallclock';
      const since = new Date(r.state_at ?? r.last_seen_at);
      const technical = wallclock
        ? `Still running since ${since.toISOString()} with no status change (heartbeats continue; stuck kind running_wallclock).`
        : `No span from this session since ${lastSeen.toISOString()} while ${r.state} (stuck kind ${r.stuck_kind}).`;
      const atUs = Number(r.stuck_us);
      // One occurrence per stall: keyed by the last sign of life (silent) or the running state's
      // start (wall clock), so a re-flag after the session moved on is a new one.
      c[0].push(wallclock ? `stuck:${r.id}:wallclock:${since.getTime()}` : `stuck:${r.id}:${lastSeen.getTime()}`);
      c[1].push(atUs);
      c[2].push(r.id);
      c[3].push(r.last_trace_id);
      c[4].push(r.service);
      c[5].push(message);
      c[6].push(technical);
      c[7].push(JSON.stringify({ 'faultline.stuck.kind': r.stuck_kind, 'faultline.session.state': r.state }));
      c[8].push(`faultline.stuck.kind=${JSON.stringify(r.stuck_kind)} while ${r.state}`);
      groupInputs.push({
        atUs,
        error: {
          id: '', code: entry.code, entry, message, technicalMessage: 'No progress from the session within its threshold.',
          exceptionType: null, stacktrace: null, fingerprint: fp, timeoutKind: null, upstreamStatus: null, upstreamType: null, rule: 'watchdog',
          ruleSignal: null,
        },
      });
    }
    await tx.query(INSERT_STUCK_ERRORS, [...c.slice(0, 5), entry.code, entry.category, fp, entry.httpStatus, entry.retryable, ...c.slice(5)]);
    await upsertGroups(tx, groupInputs);
    await inTransaction(tx, rows.map((r) => ({ id: r.id, stuckUs: Number(r.stuck_us) })));
    return { flagged: rows.map((r) => r.id), abandoned };
  });
}

/** Sweep on an interval until stopped. Failures are logged and retried at the next tick. */
export function startWatchdog(
  store: Store,
  config: Pick<Config, 'stuckThresholdsMs' | 'stuckWallclockMs' | 'sweepIntervalMs'> & Partial<Pick<Config, 'abandonedAfterMs'>>,
  onFlagged: (ids: string[]) => void | Promise<void>,
  counters: { stuckFlagged: number; sweeps: number },
  inTransaction?: StuckHook,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  let lastFailure = '';
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const { flagged } = await markStuckSessions(store, config.stuckThresholdsMs, config.stuckWallclockMs, inTransaction, config.abandonedAfterMs);
        counters.sweeps++;
        lastFailure = '';
        if (flagged.length) {
          counters.stuckFlagged += flagged.length;
          await onFlagged(flagged);
        }
      } catch (err) {
        const msg = describeForLog(err).split('\n')[0];
        if (msg !== lastFailure) console.error(`Stuck-session sweep failed (will retry every ${config.sweepIntervalMs} ms): ${msg}`);
        lastFailure = msg;
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, config.sweepIntervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
