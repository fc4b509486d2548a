import { describe, expect, it } from 'vitest';
import { fingerprint, hash64, normalizeMessage } from './fingerprint.ts';

describe('normalizeMessage', () => {
  it.each([
    ['uuid', 'No conversation found with session ID: 2c4c1a52-0d7e-4b8e-9a51-6d7f1e0c3b11', 'No conversation found with session ID: <uuid>'],
    ['url', 'error sending request for url (https://chatgpt.com/backend-api/codex/responses?x=1)', 'error sending request for url (<url>)'],
    ['email', 'user jane.doe+agents@example.co.uk has no seat', 'user <email> has no seat'],
    ['ip and port', 'connect ETIMEDOUT 104.18.32.7:443', 'connect ETIMEDOUT <ip>'],
    ['hex id', 'trace 4bf92f3577b34da6a3ce929d0e0e4736 failed', 'trace <hex> failed'],
    ['prefixed provider id', 'request req_011CSHoEeqs5C35K2UUqR7Fy failed', 'request req_<id> failed'],
    ['duration', 'retrying 2/5 in 403ms', 'retrying <int>/<int> in <duration>'],
    ['float', 'Limit: 3.000000 / min', 'Limit: <float> / min'],
    ['int', 'Limit 30000, Requested 31234', 'Limit <int>, Requested <int>'],
    ['quoted value', "The model 'gpt-4-turbo-2099' does not exist", 'The model <quoted> does not exist'],
    ['iso timestamp', 'lease expired at 2025-10-05T12:30:01.123Z', 'lease expired at <date>'],
  ])('replaces a %s', (_kind, input, expected) => {
    expect(normalizeMessage(input)).toBe(expected);
  });

  it('keeps JSON keys and enum-like words that name the problem', () => {
    expect(normalizeMessage('{"type":"error","error":{"type":"invalid_request_error"}}')).toBe(
      '{"type":"error","error":{"type":"invalid_request_error"}}',
    );
  });

  it('collapses whitespace and survives non-strings', () => {
    expect(normalizeMessage('  a \n\t b  ')).toBe('a b');
    expect(normalizeMessage(undefined as unknown as string)).toBe('');
  });
});

describe('fingerprint', () => {
  it('is 16 hex characters and stable', () => {
    const fp = fingerprint({ code: 'AGT-PROVIDER-RATE-LIMIT', exceptionType: 'RateLimitError', message: 'slow down' });
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint({ code: 'AGT-PROVIDER-RATE-LIMIT', exceptionType: 'RateLimitError', message: 'slow down' })).toBe(fp);
    // Pinned: stored groups are keyed by these values, so a changed hash would split every group.
    expect(hash64('faultline')).toBe('65f8be5de5746143');
    expect(
      fingerprint({ code: 'AGT-PROVIDER-BILLING', exceptionType: 'BadRequestError', message: 'Your credit balance is too low' }),
    ).toBe('985244624c548447');
    expect(hash64('faultline')).not.toBe(hash64('faultlinf'));
  });

  it('groups messages that differ only in ids, numbers, urls and quoted values', () => {
    const a = fingerprint({
      code: 'AGT-PROVIDER-RATE-LIMIT',
      exceptionType: 'RateLimitError',
      message:
        'Rate limit reached for gpt-4.1-mini in organization org-a1B2c3D4e5F6g7H8 on tokens per min (TPM): Limit 30000, Used 29000, Requested 1532. Please try again in 3.064s. Visit https://platform.openai.com/account/rate-limits',
    });
    const b = fingerprint({
      code: 'AGT-PROVIDER-RATE-LIMIT',
      exceptionType: 'RateLimitError',
      message:
        'Rate limit reached for gpt-4.1-mini in organization org-Z9y8X7w6V5u4T3s2 on tokens per min (TPM): Limit 30000, Used 29990, Requested 88. Please try again in 176ms. Visit https://platform.openai.com/account/rate-limits?ref=2',
    });
    expect(a).toBe(b);

    const sessionA = fingerprint({ code: 'AGT-PROVIDER-SESSION-EXPIRED', message: 'No conversation found with session ID: 2c4c1a52-0d7e-4b8e-9a51-6d7f1e0c3b11' });
    const sessionB = fingerprint({ code: 'AGT-PROVIDER-SESSION-EXPIRED', message: 'No conversation found with session ID: 9f1e7d3c-1111-4222-8333-444455556666' });
    expect(sessionA).toBe(sessionB);

    expect(fingerprint({ code: 'AGT-PROVIDER-MODEL-NOT-FOUND', message: "The model 'gpt-5-pro' does not exist" })).toBe(
      fingerprint({ code: 'AGT-PROVIDER-MODEL-NOT-FOUND', message: "The model 'o9-mini' does not exist" }),
    );
  });

  it('keeps different problems under one code apart', () => {
    const toolIds = fingerprint({
      code: 'AGT-PROVIDER-FORMAT',
      exceptionType: 'BadRequestError',
      message: 'messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A09q90qw90lq917835lq9',
    });
    const lastMessage = fingerprint({
      code: 'AGT-PROVIDER-FORMAT',
      exceptionType: 'BadRequestError',
      message: 'messages: final assistant content cannot end with trailing whitespace',
    });
    expect(toolIds).not.toBe(lastMessage);

    // Same message, different exception type: different problems.
    expect(fingerprint({ code: 'AGT-WORKER-EXECUTION-FAILED', exceptionType: 'KeyError', message: 'messages' })).not.toBe(
      fingerprint({ code: 'AGT-WORKER-EXECUTION-FAILED', exceptionType: 'ValueError', message: 'messages' }),
    );
  });

  it('never shares a fingerprint across codes', () => {
    const message = 'request failed';
    expect(fingerprint({ code: 'AGT-PROVIDER-TIMEOUT', message })).not.toBe(fingerprint({ code: 'AGT-PROVIDER-SERVER-ERROR', message }));
    // No ambiguity from concatenation: code "A" + type "BC" differs from code "AB" + type "C".
    expect(fingerprint({ code: 'A', exceptionType: 'BC' })).not.toBe(fingerprint({ code: 'AB', exceptionType: 'C' }));
  });

  it('spreads many distinct inputs without collisions', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(hash64(`AGT-TEST-CODE\u0000Error\u0000problem number ${i.toString(36)}`));
    expect(seen.size).toBe(20_000);
  });
});
