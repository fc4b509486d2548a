/**
 * Alerts and session webhooks (docs/alerts.md): every request and response of `/api/alerts/*`,
 * the `FAULTLINE_ALERTS` file, and the JSON a receiver gets, as zod shapes. The collector
 * validates with them, the dashboard reads the inferred types, tests parse what receivers got.
 */
import { z } from 'zod';
import {
  ALERT_RULE_KINDS,
  ALERT_STATUSES,
  DELIVERY_KINDS,
  DELIVERY_STATUSES,
  DESTINATION_KINDS,
  MANAGED_BY,
  SESSION_WEBHOOK_STATES,
} from './alert-values.ts';
import { CATEGORIES, RETRYABLE } from './catalog-types.ts';
import { SESSION_STATES, STUCK_KINDS } from './states.ts';
import { decodeCursor, type Cursor } from './api-values.ts';

export * from './alert-values.ts';


const NO_NUL = (v: string) => !v.includes('\u0000');
const text = (max: number) => z.string().trim().min(1, { error: 'must not be empty' }).max(max, { error: `must be at most ${max} characters` }).refine(NO_NUL, { error: 'must not contain NUL' });
const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max, { error: `at most ${max} entries` });
const ms = (min: number, max: number) =>
  z.number({ error: 'must be a number of milliseconds' }).int({ error: 'must be a whole number of milliseconds' }).min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` });

/** Ids of rules and destinations: API-made ones look like `rule-3f9a1c2e`; file ones are the operator's slugs. */
export const ALERT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const alertId = z.string().regex(ALERT_ID, { error: 'must be 1-64 lower-case letters, digits, - or _, starting with a letter or digit' });

/** Every list that is given must contain the event's value; an empty or missing list matches everything. */
export const AlertFiltersShape = z
  .object({
    codes: list(text(64).transform((c) => c.toUpperCase()), 50).optional(),
    categories: list(z.enum(CATEGORIES, { error: `must be one of ${CATEGORIES.join(', ')}` }), 20).optional(),
    services: list(text(256), 50).optional(),
    agents: list(text(256), 50).optional(),
  })
  .strict();
export type AlertFilters = z.output<typeof AlertFiltersShape>;

const ruleFields = {
  name: text(120),
  kind: z.enum(ALERT_RULE_KINDS, { error: `must be one of ${ALERT_RULE_KINDS.join(', ')}` }),
  /** Destination ids; every notification of the rule goes to each. */
  destinations: list(alertId, 20).min(1, { error: 'name at least one destination' }),
  filters: AlertFiltersShape.optional(),
  /** error_rate: fires when more than this many matching errors fall within windowMs. */
  threshold: z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).min(0).max(10_000_000).optional(),
  /** error_rate: the sliding window, 10 s to 1 day. */
  windowMs: ms(10_000, 86_400_000).optional(),
  /** session_state: which changes to send. */
  states: list(z.enum(SESSION_WEBHOOK_STATES, { error: `must be one of ${SESSION_WEBHOOK_STATES.join(', ')}` }), 4).min(1, { error: 'name at least one state' }).optional(),
  /** At most one notification per alert within this (0: every time). */
  throttleMs: ms(0, 7 * 86_400_000).optional(),
  /** Alerts of this rule within this window go out as one message. */
  groupWaitMs: ms(0, 600_000).optional(),
  /** A muted rule keeps track of its alerts and sends nothing. */
  muted: z.boolean({ error: 'must be true or false' }).optional(),
};

type RuleFieldsIn = { kind?: string; threshold?: number; windowMs?: number; states?: unknown[] };

/** The parameters each kind needs, and only those. */
function checkKindParams(r: RuleFieldsIn, ctx: z.RefinementCtx): void {
  const need = (field: keyof RuleFieldsIn, ok: boolean, message: string) => {
    if (!ok) ctx.addIssue({ code: 'custom', path: [field], message });
  };
  if (r.kind === 'error_rate') {
    need('threshold', r.threshold !== undefined, 'an error_rate rule needs a threshold (fires when more errors than this fall in the window)');
    need('windowMs', r.windowMs !== undefined, 'an error_rate rule needs windowMs (the window to count over, e.g. 300000 for 5 minutes)');
  } else {
    need('threshold', r.threshold === undefined, `only error_rate rules take a threshold (this rule is ${r.kind})`);
    need('windowMs', r.windowMs === undefined, `only error_rate rules take windowMs (this rule is ${r.kind})`);
  }
  if (r.kind === 'session_state') need('states', r.states !== undefined, 'a session_state rule needs states (any of error, stuck, stopped, completed)');
  else need('states', r.states === undefined, `only session_state rules take states (this rule is ${r.kind})`);
}

/** `POST /api/alerts/rules`. */
export const AlertRuleInputShape = z.object(ruleFields).strict().superRefine(checkKindParams);
export type AlertRuleInput = z.output<typeof AlertRuleInputShape>;

/** `PATCH /api/alerts/rules/:id`: any field but the kind; the result must still suit the kind. A file-managed rule takes only `muted`. */
export const AlertRulePatchShape = z.object(ruleFields).omit({ kind: true }).partial().strict();
export type AlertRulePatch = z.output<typeof AlertRulePatchShape>;

export const AlertRuleShape = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(ALERT_RULE_KINDS),
  destinations: z.array(z.string()),
  filters: AlertFiltersShape,
  threshold: z.number().nullable(),
  windowMs: z.number().nullable(),
  states: z.array(z.enum(SESSION_WEBHOOK_STATES)).nullable(),
  throttleMs: z.number(),
  groupWaitMs: z.number(),
  muted: z.boolean(),
  managedBy: z.enum(MANAGED_BY),
  /** Alerts of this rule firing now. */
  firing: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AlertRule = z.infer<typeof AlertRuleShape>;

/**
 * A Standard Webhooks secret (`whsec_` + base64 of 24 to 64 bytes), or `generate` for one made
 * here and shown once in the answer.
 */
export const signingSecret = z.union([
  z.literal('generate'),
  z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, { error: 'must be "generate" or a Standard Webhooks secret: whsec_ followed by base64' })
    .refine((s) => {
      const bytes = Math.floor(((s.length - 6) * 3) / 4) - (s.match(/=+$/)?.[0].length ?? 0);
      return bytes >= 24 && bytes <= 64;
    }, { error: 'the base64 part must encode 24 to 64 random bytes' }),
]);

const destinationFields = {
  name: text(120),
  kind: z.enum(DESTINATION_KINDS, { error: `must be one of ${DESTINATION_KINDS.join(', ')}` }),
  /** A secret in itself for Slack: stored, never served back in full, never logged. */
  url: z
    .string()
    .trim()
    .max(2048, { error: 'must be at most 2048 characters' })
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { error: 'must be an http:// or https:// URL' }),
  /** Signs each delivery (Standard Webhooks headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  secret: signingSecret.nullable().optional(),
  /** Least time between two requests to this destination (Slack: about one a second). */
  minIntervalMs: ms(0, 60_000).optional(),
};

/** `POST /api/alerts/destinations`. */
export const DestinationInputShape = z.object(destinationFields).strict();
export type DestinationInput = z.output<typeof DestinationInputShape>;

/** `PATCH /api/alerts/destinations/:id`: `secret: null` removes signing. */
export const DestinationPatchShape = z.object(destinationFields).omit({ kind: true }).partial().strict();
export type DestinationPatch = z.output<typeof DestinationPatchShape>;

export const DestinationShape = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(DESTINATION_KINDS),
  /** Scheme and host, then only the last characters: the URL is a secret. */
  url: z.string(),
  signed: z.boolean(),
  minIntervalMs: z.number(),
  managedBy: z.enum(MANAGED_BY),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Destination = z.infer<typeof DestinationShape>;

/** The answer to creating a destination (or patching its secret to `generate`): the new secret, this once. */
export const DestinationCreatedShape = DestinationShape.extend({ secret: z.string().nullable() });
export type DestinationCreated = z.infer<typeof DestinationCreatedShape>;

export const DeliveryShape = z.object({
  /** The `X-Faultline-Delivery-Id` of every attempt. */
  id: z.string(),
  kind: z.enum(DELIVERY_KINDS),
  status: z.enum(DELIVERY_STATUSES),
  destinationId: z.string(),
  destinationName: z.string().nullable(),
  ruleId: z.string().nullable(),
  ruleName: z.string().nullable(),
  /** One line for people: what this delivery announces. */
  title: z.string(),
  attempts: z.number(),
  createdAt: z.string(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  sentAt: z.string().nullable(),
  giveUpAt: z.string(),
  /** The receiver's last answer: HTTP status and the start of its body. */
  responseStatus: z.number().nullable(),
  responseBody: z.string().nullable(),
  /** Why the last attempt failed, in words (no URL). */
  error: z.string().nullable(),
  /** The JSON that is sent. */
  body: z.string(),
});
export type Delivery = z.infer<typeof DeliveryShape>;

export const DeliveryPageShape = z.object({ items: z.array(DeliveryShape), nextCursor: z.string().nullable() });

/** `/api/alerts/rules/:id`, `/api/alerts/destinations/:id`, `/api/alerts/deliveries/:id`. */
export const AlertIdParamShape = z.object({ id: z.string().min(1).max(128).refine(NO_NUL, { error: 'must not contain NUL' }) });

/** `GET /api/alerts/deliveries`: newest first, keyset-paged like the other lists. */
export const DeliveryListQueryShape = z.object({
  status: z.enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(', ')}` }).optional(),
  destination: alertId.optional(),
  rule: alertId.optional(),
  limit: z
    .string()
    .regex(/^\s*\d{1,12}\s*$/, { error: 'must be a whole number from 1 to 200' })
    .transform(Number)
    .pipe(z.number().min(1, { error: 'must be at least 1' }).max(200, { error: 'must be at most 200' }))
    .optional()
    .transform((v) => v ?? 50),
  cursor: z
    .string()
    .max(2048, { error: 'is not a cursor from this API' })
    .transform((raw, ctx): Cursor | undefined => {
      if (raw === '') return undefined;
      const cursor = decodeCursor(raw);
      if (cursor) return cursor;
      ctx.addIssue({ code: 'custom', message: 'is not a cursor from this API; pass the nextCursor of the previous page' });
      return z.NEVER;
    })
    .optional(),
});
export type DeliveryListQuery = z.input<typeof DeliveryListQueryShape>;

/** `POST /api/alerts/destinations/:id/test` takes an empty JSON object. */
export const TestRequestShape = z.object({}).strict();
export type DeliveryPage = z.infer<typeof DeliveryPageShape>;

/** One alert (rule + subject) firing now, for `GET /api/alerts/firing`. */
export const FiringAlertShape = z.object({
  ruleId: z.string(),
  ruleName: z.string(),
  kind: z.enum(ALERT_RULE_KINDS),
  key: z.string(),
  title: z.string(),
  startsAt: z.string(),
  notified: z.boolean(),
});
export type FiringAlert = z.infer<typeof FiringAlertShape>;

// ── the FAULTLINE_ALERTS file (infrastructure as code) ─────────────────────────────────────────

/** `${NAME}` in `url` and `secret` is replaced from the environment, so the file holds no secret. */
export const AlertsFileShape = z
  .object({
    destinations: list(z.object({ id: alertId, ...destinationFields, name: text(120).optional() }).strict(), 100).default([]),
    rules: list(z.object({ id: alertId, ...ruleFields, name: text(120).optional() }).strict().superRefine(checkKindParams), 500).default([]),
  })
  .strict();
export type AlertsFile = z.output<typeof AlertsFileShape>;

// ── what receivers get ───────────────────────────────────────────────────────────────────────

/** The SDK's `toClientError` payload: the catalog's words for a client (UI, orchestrator). */
export const ClientErrorShape = z.object({
  code: z.string(),
  title: z.string(),
  message: z.string(),
  retryable: z.enum(RETRYABLE),
  sessionId: z.string().nullable(),
  traceId: z.string().nullable(),
});
export type ClientErrorPayload = z.infer<typeof ClientErrorShape>;

/** Faultline's own fields on each alert of the Alertmanager envelope. */
export const AlertFaultlineFieldsShape = z.object({
  ruleId: z.string(),
  kind: z.enum(ALERT_RULE_KINDS),
  code: z.string().nullable(),
  category: z.string().nullable(),
  title: z.string(),
  /** The catalog's user message: the friendly words. */
  message: z.string().nullable(),
  supportNote: z.string().nullable(),
  operatorHint: z.string().nullable(),
  sessionId: z.string().nullable(),
  service: z.string().nullable(),
  agent: z.string().nullable(),
  /** The error group's fingerprint (new_group, regression). */
  groupFingerprint: z.string().nullable(),
  /** error_rate: the count in the window when it fired or resolved, and the threshold. */
  count: z.number().nullable(),
  threshold: z.number().nullable(),
  windowMs: z.number().nullable(),
});

/** One alert, as Alertmanager's webhook sends it (plus Grafana's dashboardURL and Faultline's fields). */
export const WebhookAlertShape = z.object({
  status: z.enum(ALERT_STATUSES),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  /** Alertmanager's zero time while firing. */
  endsAt: z.string(),
  generatorURL: z.string(),
  dashboardURL: z.string(),
  fingerprint: z.string(),
  faultline: AlertFaultlineFieldsShape,
});
export type WebhookAlert = z.infer<typeof WebhookAlertShape>;

/** Alertmanager's webhook_config JSON (version 4) as sent by a `webhook` destination for alert rules. */
export const AlertmanagerWebhookShape = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number(),
  status: z.enum(ALERT_STATUSES),
  receiver: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  commonLabels: z.record(z.string(), z.string()),
  commonAnnotations: z.record(z.string(), z.string()),
  externalURL: z.string(),
  alerts: z.array(WebhookAlertShape),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhookShape>;

/** What a `webhook` destination gets for a session_state rule. */
export const SessionWebhookShape = z.object({
  type: z.literal('faultline.session.changed'),
  /** The change: the state entered, or `stuck`. */
  event: z.enum(SESSION_WEBHOOK_STATES),
  at: z.string(),
  rule: z.object({ id: z.string(), name: z.string() }),
  session: z.object({
    id: z.string(),
    service: z.string(),
    agent: z.string().nullable(),
    state: z.enum(SESSION_STATES).nullable(),
    statusMessage: z.string().nullable(),
    stuck: z.boolean(),
    stuckKind: z.enum(STUCK_KINDS).nullable(),
    /** The session's page in the dashboard. */
    url: z.string(),
  }),
  /** The SDK's `toClientError` words for the session's error; null when it ended without one. */
  clientError: ClientErrorShape.nullable(),
  /** The latest assistant output or error, as `GET /api/sessions/:id/latest` tells it. */
  latest: z.object({
    kind: z.enum(['output', 'error', 'none']),
    at: z.string().nullable(),
    text: z.string().nullable(),
    error: ClientErrorShape.nullable(),
  }),
});
export type SessionWebhook = z.infer<typeof SessionWebhookShape>;

/** A `send test` body for a `webhook` destination. */
export const TestWebhookShape = z.object({ type: z.literal('faultline.test'), at: z.string(), destination: z.object({ id: z.string(), name: z.string() }), message: z.string() });
