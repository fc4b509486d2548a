/**
 * Slack messages stay valid Block Kit whatever they carry: the limits of docs.slack.dev
 * (reference/block-kit/blocks: 50 blocks, header 150, section and context text 1–3000, context
 * 10 elements), mrkdwn control characters escaped so a session id cannot ping @channel or break
 * a link, and the friendly words first.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_CODES } from '@faultline/schema/operator-rules';
import { getCatalogEntry } from '@faultline/schema';
import { escapeMrkdwn, slackAlertMessage, slackSessionMessage } from './slack.ts';
import { expectValidBlockKit } from './test-receiver.ts';
import type { RuleRow } from './rules.ts';

const rule: RuleRow = {
  id: 'rule-1', name: 'New problems <!channel> & friends', kind: 'new_group', destinationIds: ['d'], filters: {}, threshold: null, windowMs: null, states: null,
  throttleMs: 0, groupWaitMs: 0, muted: false,
};
const ctx = { baseUrl: 'https://faultline.example.com', codes: BUILTIN_CODES };

describe('Slack messages', () => {
  it('puts the friendly words first and links to the dashboard', () => {
    const billing = getCatalogEntry('AGT-PROVIDER-BILLING')!;
    const msg = slackAlertMessage(rule, [{ status: 'firing', key: 'fp1', at: '2026-01-01T00:00:00.000Z', facts: {
      code: billing.code, category: 'provider', service: 'checkout', agent: 'assistant', sessionId: 's-1', fingerprint: 'fp1', message: billing.userMessage,
    } }], ctx);
    expectValidBlockKit(msg);
    const section = msg.blocks[1] as { text: { text: string } };
    expect(section.text.text.split('\n')[0]).toBe(`*New kind of error: ${billing.title} in checkout (agent assistant)*`);
    expect(section.text.text.split('\n')[1]).toBe(escapeMrkdwn(billing.userMessage));
    expect(JSON.stringify(msg.blocks[2])).toContain('<https://faultline.example.com/errors?code=AGT-PROVIDER-BILLING|See the errors>');
    expect(msg.text).toContain(billing.title);
  });

  it('stays within the limits with 60 alerts, 10 000-character words and mrkdwn control characters', () => {
    const huge = `<!channel> ${'x&<>'.repeat(2500)}`;
    const items = Array.from({ length: 60 }, (_, i) => ({
      status: (i % 2 ? 'firing' : 'resolved') as 'firing' | 'resolved',
      key: `k${i}`,
      at: '2026-01-01T00:00:00.000Z',
      facts: { code: 'AGT-PROVIDER-BILLING', category: 'provider', service: huge, agent: '<@U123>', sessionId: `s|<${i}>`, fingerprint: `f${i}`, message: huge },
    }));
    const msg = slackAlertMessage({ ...rule, name: huge }, items, ctx);
    expectValidBlockKit(msg);
    // Header text is plain_text, which Slack never parses for mentions; everything mrkdwn is escaped.
    expect(JSON.stringify({ text: msg.text, blocks: msg.blocks.slice(1) })).not.toContain('<!channel>');
    expect(JSON.stringify(msg.blocks.at(-1))).toContain('and 40 more');
  });

  it('session messages: the client words of a failure, the last output of a completed run', () => {
    const failed = slackSessionMessage(
      { sessionId: 'run-7', service: 'orchestrator', agent: 'planner', event: 'error', state: 'error', statusMessage: null, stuckKind: null,
        error: { code: 'AGT-PROVIDER-BILLING', category: 'provider', message: 'Your AI provider account is out of credit.', traceId: null } },
      null,
      ctx,
    );
    expectValidBlockKit(failed);
    expect(failed.text).toBe('Session run-7 failed (orchestrator, agent planner) — Your AI provider account is out of credit.');
    const done = slackSessionMessage(
      { sessionId: 'run-8', service: 'orchestrator', agent: null, event: 'completed', state: 'completed', statusMessage: 'Done', stuckKind: null, error: null },
      { sessionId: 'run-8', kind: 'output', at: null, text: 'Plan: <b>ship it</b>', error: null, state: 'completed' },
      ctx,
    );
    expectValidBlockKit(done);
    expect((done.blocks[0] as { text: { text: string } }).text.text).toContain('Last output: Plan: &lt;b&gt;ship it&lt;/b&gt;');
  });
});
