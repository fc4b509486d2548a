/**
 * What receivers get. A `webhook` destination gets Alertmanager's webhook JSON (version 4, as
 * prometheus/alertmanager notify/webhook sends it) with Grafana's per-alert `dashboardURL` and a
 * `faultline` object of our own on each alert; session webhooks get their own JSON with the
 * SDK's client payload. Slack gets the same words as a Block Kit message (slack.ts).
 */
import { createHash } from 'node:crypto';
import type { CodeBook } from '@faultline/schema/operator-rules';
import {
  ALERT_RULE_KIND_WORDS,
  type AlertStatus,
  type AlertmanagerWebhook,
  type ClientErrorPayload,
  type SessionWebhook,
  type WebhookAlert,
} from '@faultline/schema/api';
import type { LatestOutput, Session } from '@faultline/schema';
import type { AlertFacts, SessionEventFacts } from './fire.ts';
import type { RuleRow } from './rules.ts';

/** Alertmanager's "not ended" time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Alerts per message; the rest are counted in `truncatedAlerts` (Alertmanager's max_alerts). */
export const MAX_ALERTS_PER_MESSAGE = 100;

export interface RenderContext {
  /** The dashboard's origin, for links (FAULTLINE_PUBLIC_URL, or the collector's own URL). */
  baseUrl: string;
  codes: CodeBook;
}

export interface AlertItem {
  status: AlertStatus;
  key: string;
  /** When this status began (ISO): the firing time, or the resolution time. */
  at: string;
  facts: AlertFacts;
}

/** Everything a message says about one alert, in words first. */
export interface AlertWords {
  title: string;
  message: string | null;
  supportNote: string | null;
  operatorHint: string | null;
  link: string;
  linkLabel: string;
}

const path = (base: string, p: string) => `${base.replace(/\/+$/, '')}${p}`;

export const sessionLink = (ctx: RenderContext, id: string) => path(ctx.baseUrl, `/sessions/${encodeURIComponent(id)}`);
export const rulesLink = (ctx: RenderContext, ruleId: string) => path(ctx.baseUrl, `/alerts?rule=${encodeURIComponent(ruleId)}`);

function windowWords(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

export function alertWords(rule: RuleRow, item: AlertItem, ctx: RenderContext): AlertWords {
  const f = item.facts;
  const entry = f.code ? ctx.codes.get(f.code) : undefined;
  const codeTitle = entry?.title ?? f.code ?? 'errors';
  const where = [f.service && `in ${f.service}`, f.agent && `(agent ${f.agent})`].filter(Boolean).join(' ');
  const resolved = item.status === 'resolved';
  let title: string;
  let link = f.code ? path(ctx.baseUrl, `/errors?code=${encodeURIComponent(f.code)}`) : path(ctx.baseUrl, '/errors');
  let linkLabel = 'See the errors';
  switch (rule.kind) {
    case 'new_group':
      title = resolved ? `Marked resolved: ${codeTitle} ${where}` : `New kind of error: ${codeTitle} ${where}`;
      break;
    case 'regression':
      title = resolved ? `Marked resolved again: ${codeTitle} ${where}` : `Came back after being resolved: ${codeTitle} ${where}`;
      break;
    case 'stuck_session':
      title = resolved
        ? `Session ${f.sessionId} is moving again or ended ${where}`
        : `Session ${f.sessionId} is stuck${f.state ? ` while ${f.state}` : ''} ${where}`;
      link = sessionLink(ctx, f.sessionId ?? '');
      linkLabel = 'Open the session';
      break;
    case 'error_rate': {
      const scope = [f.code ? codeTitle : null, where].filter(Boolean).join(' ');
      title = resolved
        ? `Error rate back to normal: ${f.count ?? 0} in the last ${windowWords(f.windowMs ?? 0)} (limit ${f.threshold})${scope ? ` — ${scope}` : ''}`
        : `Error rate high: ${f.count} errors in the last ${windowWords(f.windowMs ?? 0)}, more than ${f.threshold}${scope ? ` — ${scope}` : ''}`;
      break;
    }
    default:
      title = rule.name;
  }
  return {
    title: title.trim(),
    message: rule.kind === 'error_rate' ? null : (f.message ?? entry?.userMessage ?? null),
    supportNote: rule.kind === 'error_rate' ? null : (entry?.supportNote ?? null),
    operatorHint: entry?.operatorHint ?? null,
    link,
    linkLabel,
  };
}

/** Alertmanager's fingerprint is a hash of the alert's labels; ours of the rule and subject, stable across firings. */
export const alertFingerprint = (ruleId: string, key: string) => createHash('sha256').update(`${ruleId}\n${key}`).digest('hex').slice(0, 16);

function labelsOf(rule: RuleRow, f: AlertFacts): Record<string, string> {
  const labels: Record<string, string> = { alertname: rule.name, rule_id: rule.id, kind: rule.kind };
  const put = (k: string, v: string | null | undefined) => {
    if (v) labels[k] = v;
  };
  put('code', f.code);
  put('category', f.category);
  put('service', f.service);
  put('agent', f.agent);
  put('session_id', f.sessionId);
  put('group_fingerprint', f.fingerprint);
  return labels;
}

function common(maps: Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  return Object.fromEntries(Object.entries(maps[0]).filter(([k, v]) => maps.every((m) => m[k] === v)));
}

/** The latest status of each alert: a burst that fired and resolved within the grouping window is one entry. */
export function latestPerKey(items: AlertItem[]): AlertItem[] {
  const byKey = new Map<string, AlertItem>();
  for (const i of items) byKey.set(i.key, i);
  return [...byKey.values()];
}

export function alertmanagerBody(rule: RuleRow, receiver: string, items: AlertItem[], ctx: RenderContext): AlertmanagerWebhook {
  const shown = items.slice(0, MAX_ALERTS_PER_MESSAGE);
  const alerts: WebhookAlert[] = shown.map((item) => {
    const f = item.facts;
    const w = alertWords(rule, item, ctx);
    const annotations: Record<string, string> = { summary: w.title };
    if (w.message) annotations.description = w.message;
    if (w.supportNote) annotations.support_note = w.supportNote;
    if (w.operatorHint) annotations.operator_hint = w.operatorHint;
    return {
      status: item.status,
      labels: labelsOf(rule, f),
      annotations,
      startsAt: f.startsAt ?? item.at,
      endsAt: item.status === 'resolved' ? item.at : ZERO_TIME,
      generatorURL: rulesLink(ctx, rule.id),
      dashboardURL: w.link,
      fingerprint: alertFingerprint(rule.id, item.key),
      faultline: {
        ruleId: rule.id,
        kind: rule.kind,
        code: f.code,
        category: f.category,
        title: w.title,
        message: w.message,
        supportNote: w.supportNote,
        operatorHint: w.operatorHint,
        sessionId: f.sessionId,
        service: f.service,
        agent: f.agent,
        groupFingerprint: f.fingerprint,
        count: f.count ?? null,
        threshold: f.threshold ?? null,
        windowMs: f.windowMs ?? null,
      },
    };
  });
  const groupLabels = { alertname: rule.name, rule_id: rule.id };
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(rule.name)}, rule_id=${JSON.stringify(rule.id)}}`,
    truncatedAlerts: items.length - shown.length,
    status: items.some((i) => i.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: ctx.baseUrl,
    alerts,
  };
}

/** One line for the delivery log. */
export function alertTitle(rule: RuleRow, items: AlertItem[], ctx: RenderContext): string {
  const firing = items.filter((i) => i.status === 'firing').length;
  const head = alertWords(rule, items[0], ctx).title;
  if (items.length === 1) return `${items[0].status === 'firing' ? 'Firing' : 'Resolved'}: ${head}`;
  return `${rule.name}: ${firing} firing, ${items.length - firing} resolved — ${head} and ${items.length - 1} more`;
}

/** The SDK's toClientError payload for a session's last error: same code, title, words and retry advice. */
export function clientErrorOf(error: SessionEventFacts['error'] | null, sessionId: string, ctx: RenderContext): ClientErrorPayload | null {
  if (!error) return null;
  const entry = ctx.codes.get(error.code);
  return {
    code: error.code,
    title: entry?.title ?? error.code,
    message: error.message,
    retryable: entry?.retryable ?? 'no',
    sessionId,
    traceId: error.traceId,
  };
}

export function sessionWebhookBody(
  rule: RuleRow,
  facts: SessionEventFacts,
  at: string,
  session: Session | null,
  latest: LatestOutput | null,
  ctx: RenderContext,
): SessionWebhook {
  const latestError = latest?.error
    ? clientErrorOf({ code: latest.error.code, category: latest.error.category, message: latest.error.message, traceId: latest.error.traceId }, facts.sessionId, ctx)
    : null;
  return {
    type: 'faultline.session.changed',
    event: facts.event,
    at,
    rule: { id: rule.id, name: rule.name },
    session: {
      id: facts.sessionId,
      service: facts.service,
      agent: facts.agent,
      state: facts.state,
      statusMessage: facts.statusMessage,
      stuck: facts.event === 'stuck' || (session?.stuck ?? false),
      stuckKind: (facts.stuckKind ?? session?.stuckKind ?? null) as SessionWebhook['session']['stuckKind'],
      url: sessionLink(ctx, facts.sessionId),
    },
    clientError: facts.event === 'completed' || facts.event === 'stopped' ? (facts.state === 'stopped' ? clientErrorOf(facts.error, facts.sessionId, ctx) : null) : clientErrorOf(facts.error, facts.sessionId, ctx),
    latest: {
      kind: latest?.kind ?? 'none',
      at: latest?.at ?? null,
      text: latest?.kind === 'output' ? latest.text : (latest?.error?.message ?? null),
      error: latestError,
    },
  };
}

const EVENT_WORDS: Record<SessionEventFacts['event'], string> = {
  error: 'failed',
  stuck: 'is stuck',
  stopped: 'stopped',
  completed: 'completed',
};

export function sessionTitle(facts: SessionEventFacts): string {
  return `Session ${facts.sessionId} ${EVENT_WORDS[facts.event]} (${facts.service}${facts.agent ? `, agent ${facts.agent}` : ''})`;
}

export const ruleKindWords = (rule: RuleRow) => ALERT_RULE_KIND_WORDS[rule.kind];
