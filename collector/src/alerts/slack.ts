/**
 * Slack incoming-webhook messages: `text` (the notification line) plus Block Kit `blocks`,
 * friendly words first, then code, service and a link. Typed with Slack's own @slack/types and
 * kept within the limits of docs.slack.dev/reference/block-kit: 50 blocks a message, 150
 * characters of header text, 3000 of section or context text; `&`, `<` and `>` escaped in mrkdwn.
 */
import type { ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { LatestOutput } from '@faultline/schema';
import type { AlertFacts, SessionEventFacts } from './fire.ts';
import { alertWords, clientErrorOf, sessionLink, sessionTitle, type AlertItem, type RenderContext } from './payloads.ts';
import type { RuleRow } from './rules.ts';

export const SLACK_LIMITS = { blocks: 50, headerText: 150, sectionText: 3000, contextText: 3000, contextElements: 10, messageText: 40_000 } as const;
/** Two blocks per alert plus a header and an overflow line stay within 50. */
export const SLACK_MAX_ALERTS = 20;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack's mrkdwn control characters (docs.slack.dev "Formatting text for app surfaces": escaping). */
export const escapeMrkdwn = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Cut to `max` characters (code points, so an emoji is never split), with an ellipsis. */
export function clip(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** A link in mrkdwn; the URL's own `|`, `<` and `>` would end the link early. */
const link = (url: string, label: string) => `<${url.replace(/[|<>]/g, encodeURIComponent)}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;

/** Escape first, clip after, never cutting an entity in half. */
function mrkdwn(parts: string, max: number): string {
  if (parts.length <= max) return parts;
  return clip(parts, max).replace(/&[a-z]*…$/, '…');
}

const header = (text: string): HeaderBlock => ({ type: 'header', text: { type: 'plain_text', text: clip(text, SLACK_LIMITS.headerText), emoji: true } });
const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: mrkdwn(text, SLACK_LIMITS.sectionText) } });
const context = (texts: string[]): ContextBlock => ({
  type: 'context',
  elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => ({ type: 'mrkdwn' as const, text: mrkdwn(t, SLACK_LIMITS.contextText) })),
});

function detailLine(f: Pick<AlertFacts, 'code' | 'service' | 'agent' | 'sessionId'>, url: string, label: string): string {
  return [
    f.code && `\`${escapeMrkdwn(f.code)}\``,
    f.service && `service ${escapeMrkdwn(f.service)}`,
    f.agent && `agent ${escapeMrkdwn(f.agent)}`,
    f.sessionId && `session ${escapeMrkdwn(f.sessionId)}`,
    link(url, label),
  ]
    .filter(Boolean)
    .join(' · ');
}

export function slackAlertMessage(rule: RuleRow, items: AlertItem[], ctx: RenderContext): SlackMessage {
  const shown = items.slice(0, SLACK_MAX_ALERTS);
  const firing = items.filter((i) => i.status === 'firing').length;
  const blocks: KnownBlock[] = [header(`${firing > 0 ? '🔴' : '✅'} ${rule.name}`)];
  for (const item of shown) {
    const w = alertWords(rule, item, ctx);
    const words = [`*${escapeMrkdwn(w.title)}*`];
    if (w.message) words.push(escapeMrkdwn(w.message));
    if (w.supportNote && item.status === 'firing') words.push(`_What to tell the customer:_ ${escapeMrkdwn(w.supportNote)}`);
    blocks.push(section(words.join('\n')));
    blocks.push(context([detailLine(item.facts, w.link, w.linkLabel)]));
  }
  if (items.length > shown.length) blocks.push(context([`…and ${items.length - shown.length} more. ${link(ctx.baseUrl, 'Open Faultline')}`]));
  const first = alertWords(rule, items[0], ctx);
  const text = items.length === 1 ? `${first.title}${first.message ? ` — ${first.message}` : ''}` : `${rule.name}: ${firing} firing, ${items.length - firing} resolved`;
  return { text: mrkdwn(escapeMrkdwn(text), SLACK_LIMITS.sectionText), blocks };
}

export function slackSessionMessage(facts: SessionEventFacts, latest: LatestOutput | null, ctx: RenderContext): SlackMessage {
  const title = sessionTitle(facts);
  const url = sessionLink(ctx, facts.sessionId);
  const client = clientErrorOf(facts.error, facts.sessionId, ctx);
  const words = [`*${escapeMrkdwn(title)}*`];
  if (client && facts.event !== 'completed') words.push(escapeMrkdwn(client.message));
  else if (latest?.kind === 'output' && latest.text) words.push(`Last output: ${escapeMrkdwn(clip(latest.text, 1000))}`);
  if (facts.statusMessage) words.push(`_Status:_ ${escapeMrkdwn(facts.statusMessage)}`);
  const blocks: KnownBlock[] = [section(words.join('\n')), context([detailLine({ code: client?.code ?? null, service: facts.service, agent: facts.agent, sessionId: null }, url, 'Open the session')])];
  return { text: mrkdwn(escapeMrkdwn(client && facts.event !== 'completed' ? `${title} — ${client.message}` : title), SLACK_LIMITS.sectionText), blocks };
}

export function slackTestMessage(destinationName: string, ctx: RenderContext): SlackMessage {
  const text = `Test from Faultline: notifications for "${destinationName}" arrive here.`;
  return { text: escapeMrkdwn(text), blocks: [section(escapeMrkdwn(text)), context([link(ctx.baseUrl, 'Open Faultline')])] };
}
