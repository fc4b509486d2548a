/**
 * Outbox → deliveries. A rule's undispatched events wait out its grouping window (from the first
 * of them), then become one message per destination; a session webhook's events go one by one,
 * at once. The body is rendered here, once, so every attempt sends the same bytes under the same
 * delivery id. Reads and rendering happen before the transaction (PGlite has one connection);
 * the transaction then locks exactly those events (SKIP LOCKED) or gives up the round, so two
 * collectors never turn one event into two deliveries.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { sessions } from '../store/tables/index.ts';
import type { DeliveryKind } from '@faultline/schema/api';
import type { Store, SqlRunner } from '../store/db.ts';
import { latestOutputOf, sessionFromRow } from '../sessions/rows.ts';
import type { AlertFacts, SessionEventFacts } from './fire.ts';
import { alertTitle, alertmanagerBody, latestPerKey, sessionTitle, sessionWebhookBody, type AlertItem, type RenderContext } from './payloads.ts';
import type { AlertRuleSet, DestinationRow, RuleRow } from './rules.ts';
import { slackAlertMessage, slackSessionMessage } from './slack.ts';

/** Events taken per rule and round; a larger backlog goes out over the next rounds. */
const EVENTS_PER_ROUND = 1000;

interface EventRow {
  id: number | string;
  rule_id: string;
  key: string;
  status: string;
  at: Date | string;
  facts: Record<string, unknown>;
}

export interface NewDelivery {
  kind: DeliveryKind;
  destinationId: string;
  ruleId: string | null;
  title: string;
  body: string;
}

const INSERT_DELIVERIES = `
insert into alert_deliveries (id, kind, destination_id, rule_id, title, body, status, attempts, created_at, next_attempt_at, give_up_at)
select t.id, t.kind, t.destination_id, t.rule_id, t.title, t.body, 'pending', 0, $1::timestamptz, $1::timestamptz, $2::timestamptz
from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) as t(id, kind, destination_id, rule_id, title, body)
returning id`;

export async function insertDeliveries(tx: SqlRunner, deliveries: NewDelivery[], nowMs: number, giveUpMs: number): Promise<string[]> {
  if (deliveries.length === 0) return [];
  const ids = deliveries.map(() => randomUUID());
  await tx.query(INSERT_DELIVERIES, [
    new Date(nowMs).toISOString(),
    new Date(nowMs + giveUpMs).toISOString(),
    ids,
    deliveries.map((d) => d.kind),
    deliveries.map((d) => d.destinationId),
    deliveries.map((d) => d.ruleId),
    deliveries.map((d) => d.title),
    deliveries.map((d) => d.body),
  ]);
  return ids;
}

const iso = (v: Date | string) => new Date(v).toISOString();

function renderAlerts(rule: RuleRow, events: EventRow[], destinations: DestinationRow[], ctx: RenderContext): NewDelivery[] {
  const items: AlertItem[] = latestPerKey(
    events.map((e) => ({ status: e.status === 'resolved' ? 'resolved' : 'firing', key: e.key, at: iso(e.at), facts: e.facts as unknown as AlertFacts })),
  );
  const title = alertTitle(rule, items, ctx);
  return destinations.map((d) => ({
    kind: 'alert',
    destinationId: d.id,
    ruleId: rule.id,
    title,
    body: JSON.stringify(d.kind === 'slack' ? slackAlertMessage(rule, items, ctx) : alertmanagerBody(rule, d.name, items, ctx)),
  }));
}

async function renderSessionEvent(store: Store, rule: RuleRow, event: EventRow, destinations: DestinationRow[], ctx: RenderContext): Promise<NewDelivery[]> {
  const facts = event.facts as unknown as SessionEventFacts;
  const [row] = await store.db.select().from(sessions).where(eq(sessions.id, facts.sessionId));
  const latest = row ? await latestOutputOf(store.db, row, ctx.codes) : null;
  const session = row ? sessionFromRow(row) : null;
  return destinations.map((d) => ({
    kind: 'session',
    destinationId: d.id,
    ruleId: rule.id,
    title: sessionTitle(facts),
    body: JSON.stringify(d.kind === 'slack' ? slackSessionMessage(facts, latest, ctx) : sessionWebhookBody(rule, facts, iso(event.at), session, latest, ctx)),
  }));
}

const LOCK_EVENTS = `
select id from alert_events where id = any($1::bigint[]) and dispatched_at is null
for update skip locked`;

/** Turn due outbox events into deliveries. Returns the number of deliveries made. */
export async function dispatchEvents(store: Store, rules: AlertRuleSet, ctx: RenderContext, nowMs: number, giveUpMs: number): Promise<number> {
  const pending = await store.query<{ rule_id: string; first_at: Date | string }>(
    'select rule_id, min(at) as first_at from alert_events where dispatched_at is null group by rule_id',
  );
  let made = 0;
  for (const { rule_id: ruleId, first_at: firstAt } of pending) {
    const rule = rules.get(ruleId);
    if (!rule) {
      // Deleted: its events are dropped. Not yet in this collector's rules: the next round has it.
      const exists = await store.query('select 1 from alert_rules where id = $1', [ruleId]);
      if (exists.length === 0) await store.query('update alert_events set dispatched_at = $2 where rule_id = $1 and dispatched_at is null', [ruleId, new Date(nowMs).toISOString()]);
      continue;
    }
    if (rule.kind !== 'session_state' && new Date(firstAt).getTime() > nowMs - rule.groupWaitMs) continue;
    const events = await store.query<EventRow>(
      'select id, rule_id, key, status, at, facts from alert_events where rule_id = $1 and dispatched_at is null order by id limit $2',
      [ruleId, EVENTS_PER_ROUND],
    );
    if (events.length === 0) continue;
    const destinations = rule.destinationIds.map((id) => rules.destinations.get(id)).filter((d): d is DestinationRow => d !== undefined);
    let deliveries: NewDelivery[] = [];
    if (!rule.muted && destinations.length > 0) {
      if (rule.kind === 'session_state') for (const e of events) deliveries.push(...(await renderSessionEvent(store, rule, e, destinations, ctx)));
      else deliveries = renderAlerts(rule, events, destinations, ctx);
    }
    made += await store.transaction(async (tx) => {
      const ids = events.map((e) => String(e.id));
      const locked = await tx.query<{ id: string }>(LOCK_EVENTS, [ids]);
      // Another collector took some of them meanwhile: leave the rest for the next round.
      if (locked.length !== ids.length) return 0;
      await tx.query('update alert_events set dispatched_at = $2 where id = any($1::bigint[])', [ids, new Date(nowMs).toISOString()]);
      return (await insertDeliveries(tx, deliveries, nowMs, giveUpMs)).length;
    });
  }
  return made;
}
