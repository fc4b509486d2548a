/**
 * The hot ingest write: one transaction per batch. Span rows, nearly all of the volume, go in as
 * COPY text; the few error, group and session rows as `INSERT … SELECT FROM unnest(…)`. Column
 * lists (columns.ts) drive both, so a new column is one line in its list. Hand-written SQL earns
 * its keep here: Drizzle's builder costs ~20 µs/row, and COPY is not a query-builder shape.
 *
 * Idempotent on (trace_id, span_id): a re-sent batch inserts nothing, and only the spans that were
 * new feed errors, groups and session counters, so nothing is counted twice. Session and group
 * rows are written in key order, so concurrent writers (two writers in one collector, or several
 * collectors on one database) wait for each other instead of deadlocking.
 */
import { PROGRESS_STATES, isTerminal, truncateText, type SessionState } from '@faultline/schema';
import type { EnrichedError, EnrichedSpan } from '../ingest/enrich.ts';
import type { SqlRunner, TransactionRunner } from './db.ts';
import { column, columnNames, copyText, unnestColumns, unnestFrom, unnestParams, type Column } from './columns.ts';

/** A span row as stored (`received_at` takes its default). */
export const SPAN_COLUMNS: readonly Column<EnrichedSpan>[] = [
  column('trace_id', 'text', (s) => s.span.traceId),
  column('span_id', 'text', (s) => s.span.spanId),
  column('parent_span_id', 'text', (s) => s.span.parentSpanId),
  column('session_id', 'text', (s) => s.sessionId),
  column('service', 'text', (s) => s.service),
  column('name', 'text', (s) => truncateText(s.name, 1024)),
  column('span_type', 'text', (s) => s.spanType),
  column('kind', 'int2', (s) => s.span.kind),
  column('start_time', 'timestamptz', (s) => s.startUs),
  column('end_time', 'timestamptz', (s) => Math.max(s.endUs, s.startUs)),
  column('duration_ms', 'float8', (s) => (Math.max(s.endUs, s.startUs) - s.startUs) / 1e3),
  column('status_code', 'int2', (s) => s.span.statusCode),
  column('status_message', 'text', (s) => s.statusMessage),
  column('error_code', 'text', (s) => s.error?.code ?? null),
  column('attributes', 'jsonb', (s) => s.attributes),
  column('events', 'jsonb', (s) => s.events),
  column('resource', 'jsonb', (s) => s.resource),
];

/** One error occurrence per new error span (not for errors propagated from a child span). */
export const ERROR_COLUMNS: readonly Column<EnrichedSpan>[] = [
  column('id', 'text', (s) => s.error!.id),
  column('at', 'timestamptz', (s) => s.endUs),
  column('session_id', 'text', (s) => s.sessionId),
  column('trace_id', 'text', (s) => s.span.traceId),
  column('span_id', 'text', (s) => s.span.spanId),
  column('service', 'text', (s) => s.service),
  column('code', 'text', (s) => s.error!.code),
  column('category', 'text', (s) => s.error!.entry.category),
  column('message', 'text', (s) => s.error!.message),
  column('technical_message', 'text', (s) => s.error!.technicalMessage),
  column('exception_type', 'text', (s) => s.error!.exceptionType),
  column('stacktrace', 'text', (s) => s.error!.stacktrace),
  column('fingerprint', 'text', (s) => s.error!.fingerprint),
  column('timeout_kind', 'text', (s) => s.error!.timeoutKind),
  column('http_status', 'int4', (s) => s.error!.entry.httpStatus),
  column('upstream_status', 'int4', (s) => s.error!.upstreamStatus),
  column('upstream_type', 'text', (s) => s.error!.upstreamType),
  column('retryable', 'text', (s) => s.error!.entry.retryable),
  column('attributes', 'jsonb', (s) => s.attributes),
  column('classifier_rule', 'text', (s) => truncateText(s.error!.rule, 200)),
  column('classifier_signal', 'text', (s) => (s.error!.ruleSignal === null ? null : truncateText(s.error!.ruleSignal, 1000))),
];

interface GroupAgg {
  fingerprint: string;
  error: EnrichedError;
  firstUs: number;
  lastUs: number;
  count: number;
}

const GROUP_COLUMNS: readonly Column<GroupAgg>[] = [
  column('fingerprint', 'text', (g) => g.fingerprint),
  column('code', 'text', (g) => g.error.code),
  column('category', 'text', (g) => g.error.entry.category),
  column('exception_type', 'text', (g) => g.error.exceptionType),
  column('sample_message', 'text', (g) => truncateText(g.error.technicalMessage ?? g.error.message, 1000)),
  column('first_seen', 'timestamptz', (g) => g.firstUs),
  column('last_seen', 'timestamptz', (g) => g.lastUs),
  column('count', 'int4', (g) => g.count),
];

const INT4_MAX = 2_147_483_647;
/** Counters are int4 columns: they stop at its maximum instead of failing every later write. */
const saturatingAdd = (a: string, b: string) => `least(${a}::int8 + ${b}, ${INT4_MAX})::int4`;

// Spans go to Postgres through a per-connection staging table of text columns, then one
// INSERT … SELECT … ON CONFLICT DO NOTHING. COPY into text columns cannot fail on the data, and
// that matters: postgres.js 3.4.9 never settles a COPY the server refuses (porsager/postgres#1173),
// which would hang the writer. Casts and conflicts then fail, if at all, as ordinary statements.
const CREATE_SPANS_STAGE = `create temp table if not exists spans_in (${SPAN_COLUMNS.map((c) => `${c.name} text`).join(', ')}) on commit delete rows`;
// In key order, like the session and group rows: two writers re-sent the same spans wait for
// each other instead of deadlocking (measured: no cost in server CPU).
const INSERT_SPANS_FROM_STAGE = `
insert into spans (${columnNames(SPAN_COLUMNS)})
select ${SPAN_COLUMNS.map((c) => (c.type === 'text' ? c.name : `${c.name}::${c.type}`)).join(', ')} from spans_in
order by trace_id, span_id
on conflict (trace_id, span_id) do nothing
returning trace_id, span_id`;

const INSERT_ERRORS = `
insert into errors (${columnNames(ERROR_COLUMNS)})
select ${unnestColumns(ERROR_COLUMNS)} from ${unnestFrom(ERROR_COLUMNS)}
on conflict (id) do nothing
returning id`;

// A resolved group that sees a new occurrence is open again (a regression).
const UPSERT_GROUPS = `
insert into error_groups (${columnNames(GROUP_COLUMNS)})
select ${unnestColumns(GROUP_COLUMNS)} from ${unnestFrom(GROUP_COLUMNS)}
on conflict (fingerprint) do update set
  first_seen = least(error_groups.first_seen, excluded.first_seen),
  last_seen = greatest(error_groups.last_seen, excluded.last_seen),
  count = ${saturatingAdd('error_groups.count', 'excluded.count')},
  status = case when error_groups.status = 'resolved' then 'open' else error_groups.status end,
  regressed_at = case when error_groups.status = 'resolved' then now() else error_groups.regressed_at end
returning fingerprint, (xmax = 0) as created,
  coalesce((select g.status = 'resolved' from error_groups g where g.fingerprint = error_groups.fingerprint), false) as reopened`;
// In RETURNING, xmax = 0 marks a row this statement inserted; the subquery reads the statement's
// snapshot, i.e. the group as it was before (alerts: a new group, a regression).

/** A group this write created or reopened (new_group and regression alerts). */
export interface GroupChange {
  fingerprint: string;
  created: boolean;
  reopened: boolean;
}

/**
 * Whether a stuck session stays stuck after this batch. Silent kinds clear on any newer sign of
 * life or on leaving the progress states; `running_wallclock` (heartbeats kept coming) clears
 * only on a newer status change.
 */
const STILL_STUCK = `s.stuck and case when s.stuck_kind = 'running_wallclock'
    then not coalesce(excluded.state_at > s.state_at, false)
    else excluded.last_seen_at <= s.last_seen_at
      and not coalesce(excluded.state_at >= coalesce(s.state_at, '-infinity') and excluded.state not in (${PROGRESS_STATES.map((st) => `'${st}'`).join(', ')}), false)
  end`;

interface SessionAgg {
  id: string;
  service: string;
  agent: string | null;
  provider: string | null;
  model: string | null;
  state: SessionState | null;
  stateMessage: string | null;
  stateUs: number | null;
  stuckAfterMs: number | null;
  err: (EnrichedError & { atUs: number }) | null;
  firstUs: number;
  lastUs: number;
  errorCount: number;
  spanCount: number;
  traceId: string;
  hbUs: number | null;
  heartbeat: unknown;
  output: string | null;
  outputUs: number | null;
  /** Start of the newest span that succeeded (no error, status not ERROR; heartbeats and status spans aside). */
  okUs: number | null;
}

function aggregateSessions(spans: EnrichedSpan[]): SessionAgg[] {
  const bySession = new Map<string, SessionAgg>();
  for (const s of spans) {
    if (!s.sessionId) continue;
    let agg = bySession.get(s.sessionId);
    if (!agg) {
      agg = {
        id: s.sessionId, service: s.service, agent: null, provider: null, model: null, state: null, stateMessage: null,
        stateUs: null, stuckAfterMs: null, err: null, firstUs: s.startUs, lastUs: s.endUs, errorCount: 0, spanCount: 0,
        traceId: s.span.traceId, hbUs: null, heartbeat: null, output: null, outputUs: null, okUs: null,
      };
      bySession.set(s.sessionId, agg);
    }
    agg.spanCount++;
    agg.agent = s.agent ?? agg.agent;
    agg.provider = s.provider ?? agg.provider;
    agg.model = s.model ?? agg.model;
    if (s.stuckAfterMs !== null) agg.stuckAfterMs = s.stuckAfterMs;
    agg.firstUs = Math.min(agg.firstUs, s.startUs);
    if (s.endUs >= agg.lastUs) {
      agg.lastUs = s.endUs;
      agg.traceId = s.span.traceId;
    }
    // Ties go to the later span in the batch: the SDK emits status changes in order.
    if (s.state && (agg.stateUs === null || s.endUs >= agg.stateUs)) {
      agg.state = s.state;
      agg.stateMessage = s.stateMessage;
      agg.stateUs = s.endUs;
    }
    if (s.error && !s.errorPropagated) {
      agg.errorCount++;
      if (!agg.err || s.endUs >= agg.err.atUs) agg.err = { ...s.error, atUs: s.endUs };
    }
    // A call that started after an error and succeeded is what tells "recovered" from "failed"
    // for producers that send no status spans (derivedOutcome in the contract).
    if (s.error === null && s.span.statusCode !== 2 && s.spanType !== 'heartbeat' && s.spanType !== 'status' && (agg.okUs === null || s.startUs > agg.okUs)) {
      agg.okUs = s.startUs;
    }
    if (s.heartbeat && (agg.hbUs === null || s.endUs >= agg.hbUs)) {
      agg.hbUs = s.endUs;
      agg.heartbeat = s.heartbeat;
    }
    if (s.outputText !== null && (agg.outputUs === null || s.endUs >= agg.outputUs)) {
      agg.output = truncateText(s.outputText, 100_000);
      agg.outputUs = s.endUs;
    }
  }
  // Sorted, so concurrent writers lock session rows in one order and never deadlock.
  return [...bySession.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export const SESSION_COLUMNS: readonly Column<SessionAgg>[] = [
  column('id', 'text', (g) => g.id),
  column('service', 'text', (g) => g.service),
  column('agent', 'text', (g) => g.agent),
  column('provider', 'text', (g) => g.provider),
  column('model', 'text', (g) => g.model),
  column('state', 'text', (g) => g.state),
  column('status_message', 'text', (g) => g.stateMessage),
  column('state_at', 'timestamptz', (g) => g.stateUs),
  column('stuck_after_ms', 'int4', (g) => g.stuckAfterMs),
  column('last_error_code', 'text', (g) => g.err?.code ?? null),
  column('last_error_category', 'text', (g) => g.err?.entry.category ?? null),
  column('last_error_message', 'text', (g) => g.err?.message ?? null),
  column('last_error_at', 'timestamptz', (g) => g.err?.atUs ?? null),
  column('started_at', 'timestamptz', (g) => g.firstUs),
  column('last_seen_at', 'timestamptz', (g) => g.lastUs),
  column('ended_at', 'timestamptz', (g) => (isTerminal(g.state) ? g.stateUs : null)),
  column('error_count', 'int4', (g) => g.errorCount),
  column('span_count', 'int4', (g) => g.spanCount),
  column('last_trace_id', 'text', (g) => g.traceId),
  column('last_heartbeat_at', 'timestamptz', (g) => g.hbUs),
  column('last_heartbeat', 'jsonb', (g) => g.heartbeat),
  column('latest_output', 'text', (g) => g.output),
  column('latest_output_at', 'timestamptz', (g) => g.outputUs),
  column('last_ok_at', 'timestamptz', (g) => g.okUs),
];

/**
 * Session upsert. State comes only from status spans, and an older status span never overwrites
 * a newer one (out-of-order batches still end right). Any newer sign of life clears the stuck flag.
 * A real error from the runtime replaces a watchdog "stuck" last error even when its span time is
 * older (a late or replayed export): it explains more than the watchdog's inference.
 */
const UPSERT_SESSIONS = `
insert into sessions as s (${columnNames(SESSION_COLUMNS)})
select ${unnestColumns(SESSION_COLUMNS)} from ${unnestFrom(SESSION_COLUMNS)}
on conflict (id) do update set
  service = case when s.service = 'unknown_service' then excluded.service else s.service end,
  agent = coalesce(excluded.agent, s.agent),
  provider = coalesce(excluded.provider, s.provider),
  model = coalesce(excluded.model, s.model),
  state = case when excluded.state_at is not null and (s.state_at is null or excluded.state_at >= s.state_at) then excluded.state else s.state end,
  status_message = case when excluded.state_at is not null and (s.state_at is null or excluded.state_at >= s.state_at) then excluded.status_message else s.status_message end,
  ended_at = case when excluded.state_at is not null and (s.state_at is null or excluded.state_at >= s.state_at) then excluded.ended_at else s.ended_at end,
  state_at = greatest(s.state_at, excluded.state_at),
  stuck_after_ms = coalesce(excluded.stuck_after_ms, s.stuck_after_ms),
  last_error_code = case when excluded.last_error_at >= coalesce(s.last_error_at, '-infinity') or (excluded.last_error_at is not null and s.last_error_code = 'AGT-SESSION-STUCK') then excluded.last_error_code else s.last_error_code end,
  last_error_category = case when excluded.last_error_at >= coalesce(s.last_error_at, '-infinity') or (excluded.last_error_at is not null and s.last_error_code = 'AGT-SESSION-STUCK') then excluded.last_error_category else s.last_error_category end,
  last_error_message = case when excluded.last_error_at >= coalesce(s.last_error_at, '-infinity') or (excluded.last_error_at is not null and s.last_error_code = 'AGT-SESSION-STUCK') then excluded.last_error_message else s.last_error_message end,
  last_error_at = greatest(s.last_error_at, excluded.last_error_at),
  started_at = least(s.started_at, excluded.started_at),
  last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at),
  stuck = ${STILL_STUCK},
  stuck_kind = case when ${STILL_STUCK} then s.stuck_kind end,
  stuck_since = case when ${STILL_STUCK} then s.stuck_since end,
  stuck_acknowledged_at = case when ${STILL_STUCK} then s.stuck_acknowledged_at end,
  abandoned_at = case when excluded.last_seen_at > s.last_seen_at then null else s.abandoned_at end,
  last_ok_at = greatest(s.last_ok_at, excluded.last_ok_at),
  error_count = ${saturatingAdd('s.error_count', 'excluded.error_count')},
  span_count = ${saturatingAdd('s.span_count', 'excluded.span_count')},
  last_trace_id = case when excluded.last_seen_at >= s.last_seen_at then excluded.last_trace_id else s.last_trace_id end,
  last_heartbeat = case when excluded.last_heartbeat_at >= coalesce(s.last_heartbeat_at, '-infinity') then excluded.last_heartbeat else s.last_heartbeat end,
  last_heartbeat_at = greatest(s.last_heartbeat_at, excluded.last_heartbeat_at),
  latest_output = case when excluded.latest_output_at >= coalesce(s.latest_output_at, '-infinity') then excluded.latest_output else s.latest_output end,
  latest_output_at = greatest(s.latest_output_at, excluded.latest_output_at),
  updated_at = now()`;

export interface BatchWriteResult {
  /** Spans that were new (not already stored). */
  inserted: EnrichedSpan[];
  /** Error occurrences that were new. */
  newErrors: EnrichedSpan[];
  /** Sessions touched by new spans. */
  sessionIds: string[];
  /** Groups this write created or reopened. */
  groupChanges: GroupChange[];
  /** Outbox rows the alert hook wrote in the same transaction. */
  alertEvents?: number;
}

const spanKey = (s: EnrichedSpan) => `${s.span.traceId}:${s.span.spanId}`;

/**
 * The common case, every span new (no client retry in the batch): the span rows COPY straight into
 * `spans` (heap multi-insert: about half the server time of INSERT … SELECT … ON CONFLICT), then the
 * occurrence insert and the session and group upserts go out together. On Postgres that is one
 * round trip for all three, which matters: each round trip waits for a turn of an event loop that
 * is busy decoding the next requests (measured: ~0.6 s per 2,500-span batch with one round trip
 * per statement, both CPUs half idle). Throws if the COPY or anything after it is refused, or an
 * occurrence was already stored: the caller rolls back and runs `writeBatch` instead.
 */
export async function writeNewBatch(tx: TransactionRunner, batch: EnrichedSpan[]): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: [], newErrors: [], sessionIds: [], groupChanges: [] };
  const errorSpans = batch.filter((s) => s.error !== null && !s.errorPropagated);
  const sessions = aggregateSessions(batch);
  const groups = aggregateGroups(errorSpans.map((s) => ({ error: s.error!, atUs: s.endUs })));
  await tx.copyFrom(`spans (${columnNames(SPAN_COLUMNS)})`, copyText(SPAN_COLUMNS, batch));
  // Sessions before groups, as the watchdog does, so the two lock in the same order. The first
  // statement also tells whether the COPY was refused (postgres.js reports it only there).
  const [ids, , groupRows] = await Promise.all([
    errorSpans.length > 0 ? tx.query<{ id: string }>(INSERT_ERRORS, unnestParams(ERROR_COLUMNS, errorSpans)) : tx.query('select 1'),
    sessions.length > 0 ? tx.query(UPSERT_SESSIONS, unnestParams(SESSION_COLUMNS, sessions)) : null,
    groups.length > 0 ? tx.query<GroupChange>(UPSERT_GROUPS, unnestParams(GROUP_COLUMNS, groups)) : null,
  ]);
  if (errorSpans.length > 0 && ids.length !== errorSpans.length) throw new AlreadyStoredError();
  // Rows that must commit with these (an alert outbox) are written after this, as in writeBatch.
  return { inserted: batch, newErrors: errorSpans, sessionIds: sessions.map((s) => s.id), groupChanges: changedGroups(groupRows ?? []) };
}

/** An occurrence of a new span was already stored (its span was removed by retention): the group counts must come from `writeBatch`. */
export class AlreadyStoredError extends Error {
  constructor() {
    super('An error occurrence in the batch was already stored.');
  }
}

/** Insert span rows; returns those that were new (duplicates skipped, data errors reported). */
async function insertSpans(tx: TransactionRunner, rows: EnrichedSpan[]): Promise<EnrichedSpan[]> {
  await tx.query(CREATE_SPANS_STAGE);
  await tx.copyFrom(`spans_in (${columnNames(SPAN_COLUMNS)})`, copyText(SPAN_COLUMNS, rows));
  const keys = await tx.query<{ trace_id: string; span_id: string }>(INSERT_SPANS_FROM_STAGE);
  if (keys.length === rows.length) return rows;
  const fresh = new Set(keys.map((r) => `${r.trace_id}:${r.span_id}`));
  return rows.filter((s) => fresh.has(spanKey(s)));
}

/**
 * Write one batch in the caller's transaction, whatever it holds: spans already stored (a client
 * retry) are skipped and feed no counter, and data the database refuses fails the statement
 * that carries it, for the pipeline to isolate.
 */
export async function writeBatch(tx: TransactionRunner, batch: EnrichedSpan[]): Promise<BatchWriteResult> {
  if (batch.length === 0) return { inserted: [], newErrors: [], sessionIds: [], groupChanges: [] };
  // Within one batch the same span may appear twice (a client retry merged into one flush).
  const unique = new Map<string, EnrichedSpan>();
  for (const s of batch) unique.set(spanKey(s), s);
  const inserted = await insertSpans(tx, [...unique.values()]);

  const errorSpans = inserted.filter((s) => s.error !== null && !s.errorPropagated);
  let newErrors: EnrichedSpan[] = [];
  if (errorSpans.length > 0) {
    const ids = new Set((await tx.query<{ id: string }>(INSERT_ERRORS, unnestParams(ERROR_COLUMNS, errorSpans))).map((r) => r.id));
    newErrors = ids.size === errorSpans.length ? errorSpans : errorSpans.filter((s) => ids.has(s.error!.id));
  }

  // Sessions before groups, as the watchdog does, so the two lock in the same order.
  const sessions = aggregateSessions(inserted);
  if (sessions.length > 0) await tx.query(UPSERT_SESSIONS, unnestParams(SESSION_COLUMNS, sessions));
  const groupChanges = await upsertGroups(tx, newErrors.map((s) => ({ error: s.error!, atUs: s.endUs })));
  // Rows that must commit with these (an alert outbox) are written after this, by the pipeline's hook: the transaction is open.
  return { inserted, newErrors, sessionIds: sessions.map((s) => s.id), groupChanges };
}

function aggregateGroups(errors: { error: EnrichedError; atUs: number }[]): GroupAgg[] {
  const groups = new Map<string, GroupAgg>();
  for (const { error, atUs } of errors) {
    const g = groups.get(error.fingerprint);
    if (g) {
      g.firstUs = Math.min(g.firstUs, atUs);
      g.lastUs = Math.max(g.lastUs, atUs);
      g.count++;
    } else groups.set(error.fingerprint, { fingerprint: error.fingerprint, error, firstUs: atUs, lastUs: atUs, count: 1 });
  }
  // Sorted, like sessions: concurrent writers lock group rows in one order.
  return [...groups.values()].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
}

export async function upsertGroups(tx: SqlRunner, errors: { error: EnrichedError; atUs: number }[]): Promise<GroupChange[]> {
  if (errors.length === 0) return [];
  return changedGroups(await tx.query<GroupChange>(UPSERT_GROUPS, unnestParams(GROUP_COLUMNS, aggregateGroups(errors))));
}

const changedGroups = (rows: GroupChange[]): GroupChange[] => rows.filter((r) => r.created || r.reopened);
