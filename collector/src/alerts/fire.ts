/**
 * The outbox writes, made inside the transaction of whatever fired them: an ingest write
 * (new group, regression, a stuck session showing life, a session changing state), a watchdog
 * sweep (stuck), a group status change (resolved by an operator), an error-rate evaluation.
 * Committed together with the event or not at all; the delivery worker sends them later.
 *
 * An alert's firing and resolving are state changes of its `alert_states` row under the row's
 * lock: two writers (or two collectors) that both see a group reopen or a rate cross its
 * threshold fire it once. Session changes carry a dedup key instead (they have no state).
 */
import { STUCK_CODE, getCatalogEntry, type SessionState } from '@faultline/schema';
import type { SessionWebhookState } from '@faultline/schema/api';
import type { BatchWriteResult } from '../store/write-batch.ts';
import type { SqlRunner } from '../store/db.ts';
import { ruleMatches, type AlertRuleSet, type AlertSubject, type RuleRow } from './rules.ts';

/** What a notification about one alert says; stored with the alert and copied into each event. */
export interface AlertFacts extends AlertSubject {
  sessionId: string | null;
  /** The error group (new_group, regression). */
  fingerprint: string | null;
  /** The friendly user message. */
  message: string | null;
  stuckKind?: string | null;
  state?: string | null;
  count?: number;
  threshold?: number;
  windowMs?: number;
  /** When the alert began firing (ISO), added by the statements below. */
  startsAt?: string;
}

/** A session change for a session webhook. */
export interface SessionEventFacts {
  sessionId: string;
  service: string;
  agent: string | null;
  event: SessionWebhookState;
  state: SessionState | null;
  statusMessage: string | null;
  stuckKind: string | null;
  /** The session's last error when the change happened (friendly words; title and retryable come from the catalog). */
  error: { code: string; category: string | null; message: string; traceId: string | null } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Fire `rule` for each subject not already firing. A throttled or muted firing is recorded
 * (notified = false) but writes no event, and its resolution later writes none either.
 */
const FIRE = `
with up as (
  insert into alert_states as a (rule_id, key, status, started_at, notified, last_notified_at, facts)
  select $1, t.key, 'firing', $2::timestamptz, $3::boolean, case when $3::boolean then $2::timestamptz end,
    t.facts || jsonb_build_object('startsAt', $2::timestamptz)
  from unnest($5::text[], $6::jsonb[]) as t(key, facts)
  order by t.key
  on conflict (rule_id, key) do update set
    status = 'firing', started_at = excluded.started_at, ended_at = null, facts = excluded.facts,
    notified = $3::boolean and (a.last_notified_at is null or a.last_notified_at <= $4::timestamptz),
    last_notified_at = case when $3::boolean and (a.last_notified_at is null or a.last_notified_at <= $4::timestamptz)
      then $2::timestamptz else a.last_notified_at end
  where a.status <> 'firing'
  returning key, notified, facts
)
insert into alert_events (rule_id, key, status, at, facts)
select $1, key, 'firing', $2::timestamptz, facts from up where notified
returning id`;

export async function fireAlerts(tx: SqlRunner, rule: RuleRow, alerts: { key: string; facts: AlertFacts }[], nowMs: number): Promise<number> {
  if (alerts.length === 0) return 0;
  // One row per key: ON CONFLICT cannot touch a row twice in one statement.
  const byKey = new Map(alerts.map((a) => [a.key, a.facts]));
  const rows = await tx.query(FIRE, [rule.id, iso(nowMs), !rule.muted, iso(nowMs - rule.throttleMs), [...byKey.keys()], [...byKey.values()].map((f) => JSON.stringify(f))]);
  return rows.length;
}

const RESOLVE = `
with down as (
  update alert_states a set status = 'resolved', ended_at = $2::timestamptz, facts = a.facts || $4::jsonb
  where a.rule_id = any($1::text[]) and a.key = any($3::text[]) and a.status = 'firing' and ($5::boolean or not exists (
    select 1 from sessions s where s.id = a.key and s.stuck))
  returning rule_id, key, notified, facts
)
insert into alert_events (rule_id, key, status, at, facts)
select rule_id, key, 'resolved', $2::timestamptz, facts from down where notified
returning id`;

/**
 * Resolve the firing alerts of `rules` on `keys`; `onlyUnstuck`: only those whose session is no
 * longer stuck (a session that showed life or ended). `facts` is merged into the alert's own.
 */
export async function resolveAlerts(
  tx: SqlRunner,
  rules: readonly RuleRow[],
  keys: string[],
  nowMs: number,
  options: { onlyUnstuck?: boolean; facts?: Partial<AlertFacts> } = {},
): Promise<number> {
  if (rules.length === 0 || keys.length === 0) return 0;
  const rows = await tx.query(RESOLVE, [rules.map((r) => r.id), iso(nowMs), keys, JSON.stringify(options.facts ?? {}), !options.onlyUnstuck]);
  return rows.length;
}

const INSERT_SESSION_EVENTS = `
insert into alert_events (rule_id, key, status, at, facts, dedup_key)
select t.rule_id, t.key, t.status, $1::timestamptz, t.facts, t.dedup
from unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[]) as t(rule_id, key, status, facts, dedup)
on conflict (dedup_key) do nothing
returning id`;

/** One event per (rule, change); `changeId` names the change (its status time, or the error) so a replay is the same event. */
export async function writeSessionEvents(
  tx: SqlRunner,
  rules: AlertRuleSet,
  changes: { facts: SessionEventFacts; changeId: string }[],
  nowMs: number,
): Promise<number> {
  const c: string[][] = [[], [], [], [], []];
  for (const { facts, changeId } of changes) {
    const subject: AlertSubject = { code: facts.error?.code ?? null, category: facts.error?.category ?? null, service: facts.service, agent: facts.agent };
    for (const rule of rules.of('session_state')) {
      if (rule.muted || !rule.states?.includes(facts.event) || !ruleMatches(rule, subject)) continue;
      c[0].push(rule.id);
      c[1].push(facts.sessionId);
      c[2].push(facts.event);
      c[3].push(JSON.stringify(facts));
      c[4].push(`${rule.id}:${facts.sessionId}:${facts.event}:${changeId}`);
    }
  }
  if (c[0].length === 0) return 0;
  return (await tx.query(INSERT_SESSION_EVENTS, [iso(nowMs), ...c])).length;
}

interface SessionFactsRow {
  id: string;
  service: string;
  agent: string | null;
  state: SessionState | null;
  status_message: string | null;
  state_us: number | string | null;
  stuck: boolean;
  stuck_kind: string | null;
  last_error_code: string | null;
  last_error_category: string | null;
  last_error_message: string | null;
  last_trace_id: string | null;
}

const SESSION_FACTS = `
select id, service, agent, state, status_message, extract(epoch from state_at) * 1e6 as state_us, stuck, stuck_kind,
  last_error_code, last_error_category, last_error_message, last_trace_id
from sessions where id = any($1::text[])`;

function sessionFacts(r: SessionFactsRow, event: SessionWebhookState): SessionEventFacts {
  return {
    sessionId: r.id,
    service: r.service,
    agent: r.agent,
    event,
    state: r.state,
    statusMessage: r.status_message,
    stuckKind: r.stuck_kind,
    error: r.last_error_code
      ? { code: r.last_error_code, category: r.last_error_category, message: r.last_error_message ?? '', traceId: r.last_trace_id }
      : null,
  };
}

/**
 * The ingest write's alerts, in its transaction. Costs nothing when no rule could care: each
 * step runs only if a rule of its kind exists and the write holds its kind of event.
 */
export async function alertsAfterIngestWrite(tx: SqlRunner, rules: AlertRuleSet, result: BatchWriteResult, nowMs: number): Promise<number> {
  let events = 0;
  const newGroupRules = rules.of('new_group');
  const regressionRules = rules.of('regression');
  const changes = result.groupChanges;
  if (changes.length > 0 && (newGroupRules.length > 0 || regressionRules.length > 0)) {
    const firstByGroup = new Map<string, (typeof result.newErrors)[number]>();
    for (const s of result.newErrors) if (!firstByGroup.has(s.error!.fingerprint)) firstByGroup.set(s.error!.fingerprint, s);
    const sessionIds = [...new Set([...firstByGroup.values()].map((s) => s.sessionId).filter((id): id is string => id !== null))];
    const agents = new Map((await tx.query<{ id: string; agent: string | null }>('select id, agent from sessions where id = any($1::text[])', [sessionIds])).map((r) => [r.id, r.agent]));
    for (const [rulesOfKind, pick] of [
      [newGroupRules, (g: (typeof changes)[number]) => g.created],
      [regressionRules, (g: (typeof changes)[number]) => g.reopened],
    ] as const) {
      for (const rule of rulesOfKind) {
        const alerts: { key: string; facts: AlertFacts }[] = [];
        for (const g of changes) {
          const s = firstByGroup.get(g.fingerprint);
          if (!pick(g) || !s) continue;
          const err = s.error!;
          const facts: AlertFacts = {
            code: err.code, category: err.entry.category, service: s.service, agent: (s.sessionId && agents.get(s.sessionId)) ?? s.agent,
            sessionId: s.sessionId, fingerprint: g.fingerprint, message: err.message,
          };
          if (ruleMatches(rule, facts)) alerts.push({ key: g.fingerprint, facts });
        }
        events += await fireAlerts(tx, rule, alerts, nowMs);
      }
    }
  }

  // A stuck session that showed life or ended: its stuck alerts resolve.
  const stuckRules = rules.of('stuck_session');
  if (stuckRules.length > 0 && result.sessionIds.length > 0) events += await resolveAlerts(tx, stuckRules, result.sessionIds, nowMs, { onlyUnstuck: true });

  // Only the states some session webhook asks for are worth a look.
  const watched = new Set<string>(rules.of('session_state').flatMap((r) => (r.muted ? [] : (r.states ?? []))));
  if (watched.has('error') || watched.has('stopped') || watched.has('completed')) {
    // The latest status span of each session in this write, if it entered a watched state, and
    // new errors of sessions that have no state at all (plain OpenTelemetry producers).
    const latest = new Map<string, { state: SessionState; us: number }>();
    for (const s of result.inserted) {
      if (!s.sessionId || !s.state) continue;
      const seen = latest.get(s.sessionId);
      if (!seen || s.endUs >= seen.us) latest.set(s.sessionId, { state: s.state, us: s.endUs });
    }
    const errorIds = new Map<string, string>();
    if (watched.has('error')) for (const s of result.newErrors) if (s.sessionId) errorIds.set(s.sessionId, s.error!.id);
    const candidates = [...new Set([...[...latest].filter(([, v]) => watched.has(v.state)).map(([id]) => id), ...errorIds.keys()])];
    if (candidates.length > 0) {
      const found: { facts: SessionEventFacts; changeId: string }[] = [];
      for (const r of await tx.query<SessionFactsRow>(SESSION_FACTS, [candidates])) {
        const mine = latest.get(r.id);
        // Only a change this write made the session's current state (an older status replayed late is not news).
        if (mine && watched.has(mine.state) && r.state === mine.state && Math.abs(Number(r.state_us) - mine.us) < 1) {
          found.push({ facts: sessionFacts(r, mine.state as SessionWebhookState), changeId: String(Math.round(mine.us)) });
        } else if (r.state === null && errorIds.has(r.id)) {
          found.push({ facts: sessionFacts(r, 'error'), changeId: errorIds.get(r.id)! });
        }
      }
      events += await writeSessionEvents(tx, rules, found, nowMs);
    }
  }
  return events;
}

/** Sessions the watchdog just flagged (its transaction): stuck alerts fire, `stuck` session webhooks go out. */
export async function alertsAfterStuck(
  tx: SqlRunner,
  rules: AlertRuleSet,
  flagged: { id: string; stuckUs: number }[],
  nowMs: number,
): Promise<number> {
  const stuckRules = rules.of('stuck_session');
  const wantsStuck = rules.of('session_state').some((r) => r.states?.includes('stuck'));
  if (flagged.length === 0 || (stuckRules.length === 0 && !wantsStuck)) return 0;
  const rows = await tx.query<SessionFactsRow>(SESSION_FACTS, [flagged.map((f) => f.id)]);
  const entry = getCatalogEntry(STUCK_CODE)!;
  let events = 0;
  for (const rule of stuckRules) {
    const alerts = rows
      .map((r) => ({
        key: r.id,
        facts: {
          code: entry.code, category: entry.category, service: r.service, agent: r.agent, sessionId: r.id, fingerprint: null,
          message: r.last_error_message, stuckKind: r.stuck_kind, state: r.state,
        } satisfies AlertFacts,
      }))
      .filter((a) => ruleMatches(rule, a.facts));
    events += await fireAlerts(tx, rule, alerts, nowMs);
  }
  if (wantsStuck) {
    const stuckUs = new Map(flagged.map((f) => [f.id, f.stuckUs]));
    events += await writeSessionEvents(tx, rules, rows.map((r) => ({ facts: sessionFacts(r, 'stuck'), changeId: String(Math.round(stuckUs.get(r.id) ?? 0)) })), nowMs);
  }
  return events;
}

/** An operator resolved or ignored a group: its new-group and regression alerts resolve. */
export async function alertsAfterGroupStatus(tx: SqlRunner, fingerprint: string, status: string, nowMs: number): Promise<number> {
  if (status === 'open') return 0;
  // From the table, not the in-memory rules: a rule made a moment ago on another collector counts too.
  const rules = await tx.query<{ id: string }>(`select id from alert_rules where kind in ('new_group', 'regression')`);
  if (rules.length === 0) return 0;
  const rows = await tx.query(RESOLVE, [rules.map((r) => r.id), iso(nowMs), [fingerprint], '{}', true]);
  return rows.length;
}
