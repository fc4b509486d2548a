/**
 * `/api/alerts`: rules, destinations (the URL and secret never come back in full), a "send test"
 * per destination, the delivery log, and the alerts firing now. Shapes in schema/src/alerts.ts.
 * Rules and destinations from the FAULTLINE_ALERTS file are read-only here, except muting a rule.
 */
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { alertDeliveries, alertDestinations, alertRules, alertStates } from '../store/tables/index.ts';
import { ALERT_DEFAULTS, type SessionWebhookState } from '@faultline/schema';
import {
  AlertIdParamShape,
  AlertRuleInputShape,
  AlertRulePatchShape,
  AlertRuleShape,
  DeliveryListQueryShape,
  DeliveryPageShape,
  DeliveryShape,
  DestinationCreatedShape,
  DestinationInputShape,
  DestinationPatchShape,
  DestinationShape,
  FiringAlertShape,
  TestRequestShape,
  type AlertFilters,
  type AlertRule,
  type Delivery,
  type Destination,
  type FiringAlert,
} from '@faultline/schema/api';
import type { CollectorDeps } from '../deps.ts';
import { FaultlineError } from '../errors.ts';
import { insertDeliveries } from '../alerts/dispatch.ts';
import { alertWords } from '../alerts/payloads.ts';
import type { AlertFacts } from '../alerts/fire.ts';
import type { RuleRow } from '../alerts/rules.ts';
import { slackTestMessage } from '../alerts/slack.ts';
import { afterCursor, cursorTime, jsonBody, pageOf, valid } from './params.ts';

type RuleDb = typeof alertRules.$inferSelect;
type DestinationDb = typeof alertDestinations.$inferSelect;
type DeliveryDb = typeof alertDeliveries.$inferSelect;

/** Scheme and host, then the last four characters: enough to tell two destinations apart, not to use one. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    const rest = `${u.pathname}${u.search}`;
    return rest.length > 1 ? `${u.protocol}//${u.host}/…${rest.slice(-4)}` : `${u.protocol}//${u.host}/`;
  } catch {
    return '…';
  }
}

/** A Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const newId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function destinationOf(d: DestinationDb): Destination {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind as Destination['kind'],
    url: maskUrl(d.url),
    signed: d.secret !== null,
    minIntervalMs: d.minIntervalMs,
    managedBy: d.managedBy as Destination['managedBy'],
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function ruleOf(r: RuleDb, firing: number): AlertRule {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as AlertRule['kind'],
    destinations: r.destinationIds,
    filters: r.filters as AlertFilters,
    threshold: r.threshold,
    windowMs: r.windowMs,
    states: r.states as SessionWebhookState[] | null,
    throttleMs: r.throttleMs,
    groupWaitMs: r.groupWaitMs,
    muted: r.muted,
    managedBy: r.managedBy as AlertRule['managedBy'],
    firing,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function deliveryOf(d: DeliveryDb, names: { destination: string | null; rule: string | null }): Delivery {
  return {
    id: d.id,
    kind: d.kind as Delivery['kind'],
    status: d.status as Delivery['status'],
    destinationId: d.destinationId,
    destinationName: names.destination,
    ruleId: d.ruleId,
    ruleName: names.rule,
    title: d.title,
    attempts: d.attempts,
    createdAt: d.createdAt.toISOString(),
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: d.status === 'pending' || d.status === 'retrying' ? iso(d.nextAttemptAt) : null,
    sentAt: iso(d.sentAt),
    giveUpAt: d.giveUpAt.toISOString(),
    responseStatus: d.responseStatus,
    responseBody: d.responseBody,
    error: d.error,
    body: d.body,
  };
}

const notFound = (what: string, id: string, list: string) => new FaultlineError('not_found', 404, `No ${what} with the id ${JSON.stringify(id)}; GET ${list} lists them.`);
const managedByFile = (what: string, id: string, allowed = '') =>
  new FaultlineError('managed_by_file', 409, `The ${what} ${id} comes from the FAULTLINE_ALERTS file: change it there${allowed}.`);

const RuleListShape = z.array(AlertRuleShape);
const DestinationListShape = z.array(DestinationShape);
const FiringListShape = z.array(FiringAlertShape);

export function alertRoutes({ store, config, alerts }: CollectorDeps) {
  const db = store.db;

  async function firingCounts(): Promise<Map<string, number>> {
    const rows = await db.select({ ruleId: alertStates.ruleId, n: sql<number>`count(*)::int` }).from(alertStates).where(eq(alertStates.status, 'firing')).groupBy(alertStates.ruleId);
    return new Map(rows.map((r) => [r.ruleId, Number(r.n)]));
  }

  async function ruleById(id: string): Promise<RuleDb> {
    const [r] = await db.select().from(alertRules).where(eq(alertRules.id, id));
    if (!r) throw notFound('alert rule', id, '/api/alerts/rules');
    return r;
  }

  async function destinationById(id: string): Promise<DestinationDb> {
    const [d] = await db.select().from(alertDestinations).where(eq(alertDestinations.id, id));
    if (!d) throw notFound('destination', id, '/api/alerts/destinations');
    return d;
  }

  async function requireDestinations(ids: string[]): Promise<void> {
    const found = new Set((await db.select({ id: alertDestinations.id }).from(alertDestinations).where(inArray(alertDestinations.id, ids))).map((r) => r.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new FaultlineError('invalid_request', 400, `destinations: no destination with the id ${missing.map((m) => JSON.stringify(m)).join(', ')}; create it first (POST /api/alerts/destinations).`);
    }
  }

  /** The rule as the worker and hooks see it, right away on this collector (others within a refresh). */
  const changed = async () => {
    await alerts.refresh();
    alerts.wake();
  };

  // ── rules ──────────────────────────────────────────────────────────────────────────────────

  return new Hono()
  .get('/rules', async (c) => {
    const [rows, firing] = await Promise.all([db.select().from(alertRules).orderBy(asc(alertRules.createdAt), asc(alertRules.id)), firingCounts()]);
    return c.json(RuleListShape.parse(rows.map((r) => ruleOf(r, firing.get(r.id) ?? 0))), 200);
  })

  .get('/rules/:id', valid('param', AlertIdParamShape), async (c) => {
    const r = await ruleById(c.req.valid('param').id);
    return c.json(AlertRuleShape.parse(ruleOf(r, (await firingCounts()).get(r.id) ?? 0)), 200);
  })

  .post('/rules', jsonBody('{"name":"Stuck sessions","kind":"stuck_session","destinations":["dest-1a2b3c4d"]}'), valid('json', AlertRuleInputShape), async (c) => {
    const input = c.req.valid('json');
    await requireDestinations(input.destinations);
    const [row] = await db
      .insert(alertRules)
      .values({
        id: newId('rule'),
        name: input.name,
        kind: input.kind,
        destinationIds: input.destinations,
        filters: input.filters ?? {},
        threshold: input.threshold ?? null,
        windowMs: input.windowMs ?? null,
        states: input.states ?? null,
        throttleMs: input.throttleMs ?? ALERT_DEFAULTS.throttleMs,
        // Orchestrators want each change at once; people want a burst as one message.
        groupWaitMs: input.groupWaitMs ?? (input.kind === 'session_state' ? 0 : ALERT_DEFAULTS.groupWaitMs),
        muted: input.muted ?? false,
      })
      .returning();
    await changed();
    return c.json(AlertRuleShape.parse(ruleOf(row, 0)), 201);
  })

  .patch('/rules/:id', valid('param', AlertIdParamShape), jsonBody('{"muted":true}'), valid('json', AlertRulePatchShape), async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const current = await ruleById(id);
    if (current.managedBy === 'file' && Object.keys(patch).some((k) => k !== 'muted')) throw managedByFile('rule', id, ' (only muting works here)');
    // The kind's parameters must still fit once the patch is applied.
    const merged = AlertRuleInputShape.safeParse({
      name: patch.name ?? current.name,
      kind: current.kind,
      destinations: patch.destinations ?? current.destinationIds,
      filters: patch.filters ?? current.filters,
      threshold: patch.threshold ?? current.threshold ?? undefined,
      windowMs: patch.windowMs ?? current.windowMs ?? undefined,
      states: patch.states ?? current.states ?? undefined,
    });
    if (!merged.success) throw merged.error;
    if (patch.destinations) await requireDestinations(patch.destinations);
    const [row] = await db
      .update(alertRules)
      .set({
        name: patch.name,
        destinationIds: patch.destinations,
        filters: patch.filters,
        threshold: patch.threshold,
        windowMs: patch.windowMs,
        states: patch.states,
        throttleMs: patch.throttleMs,
        groupWaitMs: patch.groupWaitMs,
        muted: patch.muted,
        updatedAt: new Date(),
      })
      .where(eq(alertRules.id, id))
      .returning();
    await changed();
    return c.json(AlertRuleShape.parse(ruleOf(row, (await firingCounts()).get(id) ?? 0)), 200);
  })

  .delete('/rules/:id', valid('param', AlertIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const current = await ruleById(id);
    if (current.managedBy === 'file') throw managedByFile('rule', id);
    // Its alerts go with it; events not yet sent are dropped by the worker.
    await store.transaction(async (tx) => {
      await tx.query('delete from alert_rules where id = $1', [id]);
      await tx.query('delete from alert_states where rule_id = $1', [id]);
    });
    await changed();
    return c.body(null, 204);
  })

  .get('/firing', async (c) => {
    const rows = await db
      .select({ state: alertStates, rule: alertRules })
      .from(alertStates)
      .innerJoin(alertRules, eq(alertRules.id, alertStates.ruleId))
      .where(eq(alertStates.status, 'firing'))
      .orderBy(desc(alertStates.startedAt))
      .limit(500);
    const ctx = alerts.renderContext;
    const items: FiringAlert[] = rows.map(({ state, rule }) => {
      const r = ruleRowOf(rule);
      const facts = state.facts as unknown as AlertFacts;
      return {
        ruleId: rule.id,
        ruleName: rule.name,
        kind: r.kind,
        key: state.key,
        title: alertWords(r, { status: 'firing', key: state.key, at: state.startedAt.toISOString(), facts }, ctx).title,
        startsAt: state.startedAt.toISOString(),
        notified: state.notified,
      };
    });
    return c.json(FiringListShape.parse(items), 200);
  })

  // ── destinations ───────────────────────────────────────────────────────────────────────────

  .get('/destinations', async (c) => {
    const rows = await db.select().from(alertDestinations).orderBy(asc(alertDestinations.createdAt), asc(alertDestinations.id));
    return c.json(DestinationListShape.parse(rows.map(destinationOf)), 200);
  })

  .post('/destinations', jsonBody('{"name":"On-call Slack","kind":"slack","url":"https://hooks.slack.com/services/…"}'), valid('json', DestinationInputShape), async (c) => {
    const input = c.req.valid('json');
    const secret = input.secret === 'generate' ? newSecret() : (input.secret ?? null);
    const [row] = await db
      .insert(alertDestinations)
      .values({
        id: newId('dest'),
        name: input.name,
        kind: input.kind,
        url: input.url,
        secret,
        minIntervalMs: input.minIntervalMs ?? (input.kind === 'slack' ? ALERT_DEFAULTS.slackMinIntervalMs : ALERT_DEFAULTS.webhookMinIntervalMs),
      })
      .returning();
    await changed();
    return c.json(DestinationCreatedShape.parse({ ...destinationOf(row), secret: input.secret === 'generate' ? secret : null }), 201);
  })

  .patch('/destinations/:id', valid('param', AlertIdParamShape), jsonBody('{"name":"On-call Slack"}'), valid('json', DestinationPatchShape), async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const current = await destinationById(id);
    if (current.managedBy === 'file') throw managedByFile('destination', id);
    const secret = patch.secret === 'generate' ? newSecret() : patch.secret;
    const [row] = await db
      .update(alertDestinations)
      .set({ name: patch.name, url: patch.url, secret, minIntervalMs: patch.minIntervalMs, updatedAt: new Date() })
      .where(eq(alertDestinations.id, id))
      .returning();
    await changed();
    return c.json(DestinationCreatedShape.parse({ ...destinationOf(row), secret: patch.secret === 'generate' ? (secret ?? null) : null }), 200);
  })

  .delete('/destinations/:id', valid('param', AlertIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const current = await destinationById(id);
    if (current.managedBy === 'file') throw managedByFile('destination', id);
    const users = await db.select({ id: alertRules.id, name: alertRules.name }).from(alertRules).where(sql`${id} = any(${alertRules.destinationIds})`);
    if (users.length > 0) {
      throw new FaultlineError(
        'destination_in_use',
        409,
        `The destination ${id} is used by ${users.map((u) => `${u.name} (${u.id})`).join(', ')}; remove it from ${users.length === 1 ? 'that rule' : 'those rules'} first.`,
      );
    }
    await store.transaction(async (tx) => {
      await tx.query('delete from alert_destinations where id = $1', [id]);
      await tx.query(
        `update alert_deliveries set status = 'failed', error = 'The destination was deleted before this could be sent', lease_until = null, lease_token = null
         where destination_id = $1 and status in ('pending', 'retrying')`,
        [id],
      );
    });
    await changed();
    return c.body(null, 204);
  })

  /** Send a test notification now; answers with the delivery once its first attempt is over (or still going). */
  .post('/destinations/:id/test', valid('param', AlertIdParamShape), jsonBody('{}'), valid('json', TestRequestShape), async (c) => {
    const d = await destinationById(c.req.valid('param').id);
    const ctx = alerts.renderContext;
    const now = alerts.now();
    const body =
      d.kind === 'slack'
        ? JSON.stringify(slackTestMessage(d.name, ctx))
        : JSON.stringify({ type: 'faultline.test', at: new Date(now).toISOString(), destination: { id: d.id, name: d.name }, message: `Test from Faultline: notifications for "${d.name}" arrive here.` });
    const [id] = await store.transaction((tx) =>
      insertDeliveries(tx, [{ kind: 'test', destinationId: d.id, ruleId: null, title: `Test message to ${d.name}`, body }], now, config.deliveryGiveUpMs),
    );
    alerts.wake();
    const deadline = Date.now() + (alerts.working ? config.deliveryTimeoutMs + 2000 : 0);
    let row: DeliveryDb | undefined;
    for (;;) {
      [row] = await db.select().from(alertDeliveries).where(eq(alertDeliveries.id, id));
      if (!row || row.status !== 'pending' || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return c.json(DeliveryShape.parse(deliveryOf(row!, { destination: d.name, rule: null })), 201);
  })

  // ── the delivery log ───────────────────────────────────────────────────────────────────────

  .get('/deliveries', valid('query', DeliveryListQueryShape), async (c) => {
    const p = c.req.valid('query');
    const where: SQL[] = [];
    if (p.status) where.push(eq(alertDeliveries.status, p.status));
    if (p.destination) where.push(eq(alertDeliveries.destinationId, p.destination));
    if (p.rule) where.push(eq(alertDeliveries.ruleId, p.rule));
    if (p.cursor) where.push(afterCursor(alertDeliveries.createdAt, alertDeliveries.id, p.cursor));
    const rows = await db
      .select({ d: alertDeliveries, cursorTime: cursorTime(alertDeliveries.createdAt), destination: alertDestinations.name, rule: alertRules.name })
      .from(alertDeliveries)
      .leftJoin(alertDestinations, eq(alertDestinations.id, alertDeliveries.destinationId))
      .leftJoin(alertRules, eq(alertRules.id, alertDeliveries.ruleId))
      .where(and(...where))
      .orderBy(desc(alertDeliveries.createdAt), desc(alertDeliveries.id))
      .limit(p.limit + 1);
    const page = pageOf(rows, p.limit, (r) => deliveryOf(r.d, { destination: r.destination, rule: r.rule }), (r) => ({ t: r.cursorTime, id: r.d.id }));
    return c.json(DeliveryPageShape.parse(page), 200);
  })

  .get('/deliveries/:id', valid('param', AlertIdParamShape), async (c) => {
    const { id } = c.req.valid('param');
    const [r] = await db
      .select({ d: alertDeliveries, destination: alertDestinations.name, rule: alertRules.name })
      .from(alertDeliveries)
      .leftJoin(alertDestinations, eq(alertDestinations.id, alertDeliveries.destinationId))
      .leftJoin(alertRules, eq(alertRules.id, alertDeliveries.ruleId))
      .where(eq(alertDeliveries.id, id));
    if (!r) throw notFound('delivery', id, '/api/alerts/deliveries');
    return c.json(DeliveryShape.parse(deliveryOf(r.d, { destination: r.destination, rule: r.rule })), 200);
  });

}

function ruleRowOf(r: RuleDb): RuleRow {
  return {
    id: r.id, name: r.name, kind: r.kind as RuleRow['kind'], destinationIds: r.destinationIds, filters: r.filters as AlertFilters,
    threshold: r.threshold, windowMs: r.windowMs, states: r.states as SessionWebhookState[] | null, throttleMs: r.throttleMs,
    groupWaitMs: r.groupWaitMs, muted: r.muted,
  };
}
