/**
 * Stuck detection (DESIGN §5). Spans are exported only when they end, so a hung run sends
 * nothing: the watchdog notices the silence. A session in starting/running/retrying whose last
 * sign of life is older than its threshold is flagged with a kind, gets one AGT-SESSION-STUCK
 * occurrence per stall, and is pushed to live viewers. A later span clears the flag (write-batch.ts).
 */
import { STUCK_CODE, fingerprint, getCatalogEntry, renderUserMessage } from '@faultline/schema';
import type { Config } from '../config.ts';
import type { Store } from '../store/db.ts';
import { upsertGroups } from '../store/write-batch.ts';
import type { EnrichedError } from '../ingest/enrich.ts';

// The per-session override (faultline.session.stuck_after_ms) beats the state's default.
const FLAG_STUCK = `
update sessions set stuck = true, stuck_since = now(),
  stuck_kind = case state when 'running' then 'running_silent' else state end,
  error_count = error_count + 1,
  last_error_code = $4, last_error_category = $5, last_error_message = $6, last_error_at = now(),
  updated_at = now()
where not stuck and state in ('starting', 'running', 'retrying')
  and last_seen_at < now() - make_interval(secs => coalesce(stuck_after_ms,
    case state when 'starting' then $1::int when 'running' then $2::int else $3::int end) / 1000.0)
returning id, service, state, stuck_kind, provider, model, last_seen_at, last_trace_id,
  extract(epoch from stuck_since) * 1e6 as stuck_us`;

const INSERT_STUCK_ERRORS = `
insert into errors (id, at, session_id, trace_id, span_id, service, code, category, message, technical_message,
  fingerprint, http_status, retryable, attributes)
select t.id, to_timestamp(t.at_us / 1e6), t.session_id, t.trace_id, null, t.service, $6, $7, t.message, t.technical,
  $8, $9, $10, t.attributes
from unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::text[], $11::text[], $12::text[], $13::jsonb[])
  as t(id, at_us, session_id, trace_id, service, message, technical, attributes)
on conflict (id) do nothing`;

export interface StuckSweepResult {
  flagged: string[];
}

export async function markStuckSessions(store: Store, thresholds: Config['stuckThresholdsMs']): Promise<StuckSweepResult> {
  const entry = getCatalogEntry(STUCK_CODE)!;
  return store.transaction(async (tx) => {
    const rows = await tx.query<{
      id: string; service: string; state: string; stuck_kind: string; provider: string | null; model: string | null;
      last_seen_at: Date | string; last_trace_id: string | null; stuck_us: number | string;
    }>(FLAG_STUCK, [thresholds.starting, thresholds.running, thresholds.retrying, entry.code, entry.category, entry.userMessage]);
    if (rows.length === 0) return { flagged: [] };
    const c: unknown[][] = Array.from({ length: 8 }, () => []);
    const groupInputs: { error: EnrichedError; atUs: number }[] = [];
    const fp = fingerprint({ code: entry.code, exceptionType: null, message: 'no progress' });
    for (const r of rows) {
      const lastSeen = new Date(r.last_seen_at);
      const message = renderUserMessage(entry, { provider: r.provider, model: r.model });
      const technical = `No span from this session since ${lastSeen.toISOString()} while ${r.state} (stuck kind ${r.stuck_kind}).`;
      const atUs = Number(r.stuck_us);
      // One occurrence per stall: keyed by the last sign of life, so a re-flag after new life is a new one.
      c[0].push(`stuck:${r.id}:${lastSeen.getTime()}`);
      c[1].push(atUs);
      c[2].push(r.id);
      c[3].push(r.last_trace_id);
      c[4].push(r.service);
      c[5].push(message);
      c[6].push(technical);
      c[7].push(JSON.stringify({ 'faultline.stuck.kind': r.stuck_kind, 'faultline.session.state': r.state }));
      groupInputs.push({
        atUs,
        error: {
          id: '', code: entry.code, entry, message, technicalMessage: 'No progress from the session within its threshold.',
          exceptionType: null, stacktrace: null, fingerprint: fp, timeoutKind: null, upstreamStatus: null, upstreamType: null, rule: 'watchdog',
        },
      });
    }
    await tx.query(INSERT_STUCK_ERRORS, [...c.slice(0, 5), entry.code, entry.category, fp, entry.httpStatus, entry.retryable, ...c.slice(5)]);
    await upsertGroups(tx, groupInputs);
    return { flagged: rows.map((r) => r.id) };
  });
}

/** Sweep on an interval until stopped. Failures are logged and retried at the next tick. */
export function startWatchdog(
  store: Store,
  config: Pick<Config, 'stuckThresholdsMs' | 'sweepIntervalMs'>,
  onFlagged: (ids: string[]) => void | Promise<void>,
  counters: { stuckFlagged: number; sweeps: number },
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  let lastFailure = '';
  const tick = () => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const { flagged } = await markStuckSessions(store, config.stuckThresholdsMs);
        counters.sweeps++;
        lastFailure = '';
        if (flagged.length) {
          counters.stuckFlagged += flagged.length;
          await onFlagged(flagged);
        }
      } catch (err) {
        const msg = (err as Error).message;
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
