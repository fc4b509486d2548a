import { describe, expect, it } from 'vitest';
import { CATALOG, renderUserMessage, STUCK_CODE } from './catalog.ts';
import { customerMessage, retriesRecorded, type CustomerMessageSession } from './customer.ts';

const rateLimit = { code: 'AGT-PROVIDER-RATE-LIMIT', message: renderUserMessage('AGT-PROVIDER-RATE-LIMIT', { provider: 'anthropic' }) };
const session = (over: Partial<CustomerMessageSession>): CustomerMessageSession => ({ state: null, stuck: false, lastError: null, errorCount: 0, ...over });

describe('what to tell the customer', () => {
  it('says a stuck session stalled without an error shown, was flagged, and that retrying will not help yet', () => {
    const text = customerMessage(session({ state: 'running', stuck: true, lastError: { code: STUCK_CODE, message: 'x' }, errorCount: 1 }));
    expect(text).toMatch(/stopped making progress/);
    expect(text).toMatch(/no error was shown to you/);
    expect(text).toMatch(/flagged/);
    expect(text).toMatch(/trying again will not help/i);
    expect(text).not.toMatch(/AGT-|watchdog|retried/);
  });

  it('gives a provider rate limit failure in the provider’s name, with the advice to try again shortly', () => {
    const text = customerMessage(session({ state: 'error', lastError: rateLimit, errorCount: 1 }));
    expect(text).toBe(
      'Your request did not finish: Anthropic is limiting how many requests we can send right now. Please try again in a minute. ' +
        'This is usually temporary; if it keeps happening, tell us and we will look into it.',
    );
  });

  it('invites a retry once, also where the error’s own words already do', () => {
    const server = { code: 'AGT-PROVIDER-SERVER-ERROR', message: renderUserMessage('AGT-PROVIDER-SERVER-ERROR', { provider: 'openai' }) };
    expect(customerMessage(session({ state: 'error', lastError: server, errorCount: 1 }))).toMatch(/on its side while answering\. This is usually temporary: please try again in a few minutes\.$/);
    for (const entry of CATALOG) {
      const text = customerMessage(session({ state: 'error', lastError: { code: entry.code, message: renderUserMessage(entry) }, errorCount: 1 }));
      expect(text.match(/try again|try sending/gi)?.length ?? 0, text).toBeLessThanOrEqual(1);
    }
  });

  it('claims a retry only when the producer recorded one', () => {
    expect(customerMessage(session({ state: 'error', lastError: rateLimit, errorCount: 3 }))).not.toMatch(/retried/);
    expect(customerMessage(session({ state: 'error', lastError: rateLimit, errorCount: 3 }), { retries: 2 })).toMatch(/We retried it twice before it stopped\./);
  });

  it('tells a completed session’s customer it finished, and that an earlier error was recovered from', () => {
    expect(customerMessage(session({ state: 'completed' }))).toMatch(/^Your request finished successfully, and we see no error/);
    const recovered = customerMessage(session({ state: 'completed', lastError: rateLimit, errorCount: 1 }));
    expect(recovered).toMatch(/^Your request finished successfully\. It ran into a problem along the way .*but recovered/);
  });

  it('never invites a retry for a code whose retryable flag says it will not help', () => {
    for (const entry of CATALOG) {
      const text = customerMessage(session({ state: 'error', lastError: { code: entry.code, message: renderUserMessage(entry) }, errorCount: 1 }));
      expect(text, entry.code).not.toMatch(/AGT-|\{|undefined|null/);
      if (entry.retryable === 'no' && entry.code !== 'AGT-SESSION-CANCELLED' && entry.code !== 'AGT-DELIVERY-ERROR-NOT-SURFACED') {
        expect(text, entry.code).toMatch(/trying again will not help/i);
        expect(text.replace(/trying again will not help/gi, ''), entry.code).not.toMatch(/try again/i);
      }
    }
  });

  it('words the states in between plainly', () => {
    expect(customerMessage(session({ state: 'running' }))).toBe('Your request is still being worked on and nothing has gone wrong so far.');
    expect(customerMessage(session({ state: 'waiting_input' }))).toMatch(/waiting for your answer/);
    expect(customerMessage(session({ state: 'retrying', lastError: rateLimit, errorCount: 1 }))).toMatch(/is being retried right now/);
    expect(customerMessage(session({ state: 'stopped', lastError: { code: 'AGT-SESSION-CANCELLED', message: 'You stopped this run.' }, errorCount: 1 }))).toMatch(/stopped on request; nothing went wrong/);
    expect(customerMessage(session({}))).toMatch(/^We see no error/);
  });
});

describe('retries recorded', () => {
  it('counts entries into the retrying state and an agent CLI’s attempt count, never a guess', () => {
    expect(retriesRecorded([])).toBe(0);
    expect(retriesRecorded([{ kind: 'status', state: 'running' }, { kind: 'error', error: { attributes: {} } }, { kind: 'status', state: 'error' }])).toBe(0);
    const statuses = ['running', 'retrying', 'retrying', 'running', 'retrying', 'error'].map((state) => ({ kind: 'status', state }));
    expect(retriesRecorded(statuses)).toBe(2);
    expect(retriesRecorded([{ kind: 'error', error: { attributes: { 'event.name': 'api_error', attempt: 11 } } }])).toBe(10);
    expect(retriesRecorded([{ kind: 'error', error: { attributes: { total_attempts: '3' } } }])).toBe(2);
  });
});
