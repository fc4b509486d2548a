/**
 * Alerts and session webhooks (docs/alerts.md): the plain values every part shares — rule and
 * destination kinds with their words, delivery statuses, header names and defaults. No zod here,
 * so the dashboard can import them without bundling zod; the shapes are in alerts.ts.
 */

/**
 * - `new_group`: the first occurrence of a fingerprint (a problem never seen before);
 * - `regression`: an occurrence on a group an operator marked resolved;
 * - `stuck_session`: the watchdog flagged a session; resolved when it shows life or ends;
 * - `error_rate`: more than `threshold` matching errors within `windowMs`; resolved once the
 *   count over the window is back at or under it;
 * - `session_state`: a session webhook — every change of a matching session into one of `states`,
 *   with the client payload, for product UIs and orchestrators.
 */
export const ALERT_RULE_KINDS = ['new_group', 'regression', 'stuck_session', 'error_rate', 'session_state'] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];

export const ALERT_RULE_KIND_WORDS: Record<AlertRuleKind, string> = {
  new_group: 'New kind of error',
  regression: 'Resolved error came back',
  stuck_session: 'Session stuck',
  error_rate: 'Error rate above threshold',
  session_state: 'Session webhook',
};

/** The session changes a session webhook can subscribe to (`stuck` comes from the watchdog). */
export const SESSION_WEBHOOK_STATES = ['error', 'stuck', 'stopped', 'completed'] as const;
export type SessionWebhookState = (typeof SESSION_WEBHOOK_STATES)[number];

/** `webhook`: Alertmanager-compatible JSON (session webhooks: their own JSON); `slack`: an incoming-webhook message. */
export const DESTINATION_KINDS = ['webhook', 'slack'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** `retrying`: at least one attempt failed and another is scheduled; `failed`: given up (or refused for good). */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'sent', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DELIVERY_KINDS = ['alert', 'session', 'test'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

/** Who owns a rule or destination: the API and dashboard, or the `FAULTLINE_ALERTS` file (read-only through the API). */
export const MANAGED_BY = ['api', 'file'] as const;
export type ManagedBy = (typeof MANAGED_BY)[number];

/** Same value on every attempt of one delivery, so a receiver can drop repeats. Also sent as the Standard Webhooks `webhook-id`. */
export const DELIVERY_ID_HEADER = 'X-Faultline-Delivery-Id';

export const ALERT_DEFAULTS = {
  /** Alertmanager's group_wait idea, short: a burst within it becomes one message. */
  groupWaitMs: 2_000,
  /** At most one notification per alert within this; a problem that flaps is announced once (Sentry's action interval). */
  throttleMs: 3_600_000,
  /** Slack allows about one message a second per incoming webhook. */
  slackMinIntervalMs: 1_000,
  webhookMinIntervalMs: 0,
} as const;

/** Status of one alert (rule + subject) in the Alertmanager envelope. */
export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
