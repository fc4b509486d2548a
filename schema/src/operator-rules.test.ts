import { describe, expect, it } from 'vitest';
import { compileOperatorRules, operatorRulesFileSchema, BUILTIN_CODES } from './operator-rules.ts';
import { CATALOG } from './catalog.ts';
import { renderUserMessage } from './catalog.ts';

const file = {
  codes: [
    {
      code: 'ACME-BILLING-PORTAL-DOWN',
      category: 'delivery',
      title: 'Billing portal unavailable',
      userMessage: 'Our billing portal is down, so {model} could not finish this step.',
      retryable: 'yes',
      httpStatus: 503,
    },
  ],
  rules: [
    { id: 'portal-down', match: { exceptionType: 'PortalUnavailableError', message: 'portal .{0,40}unavailable' }, code: 'ACME-BILLING-PORTAL-DOWN' },
    { id: 'anthropic-rate-limit-as-overload', match: { exceptionType: ['RateLimitError'], service: 'batch-agent' }, code: 'AGT-PROVIDER-OVERLOADED' },
    { id: 'tenant-sandbox', match: { attributes: { 'acme.component': 'sandbox', 'acme.tier': 2 } }, code: 'AGT-SANDBOX-CREATE-FAILED' },
  ],
};

const compiled = () => compileOperatorRules(operatorRulesFileSchema.parse(file));

describe('operator rules: matching', () => {
  it('maps a matching error to the operator’s own code, rule and signal', () => {
    const decided = compiled().classify({ exceptionType: 'PortalUnavailableError', message: 'billing portal is unavailable (maintenance)' });
    expect(decided).toEqual({
      code: 'ACME-BILLING-PORTAL-DOWN',
      rule: 'operator:portal-down',
      signal: 'exception.type="PortalUnavailableError", message~"portal is unavailable"',
    });
  });

  it('needs every condition of a rule: the same type with another message falls through to the built-in rules', () => {
    expect(compiled().classify({ exceptionType: 'PortalUnavailableError', message: 'quota reached' })).toBeNull();
  });

  it('matches a class name however the SDK spelled the type (Python module path, Go pointer)', () => {
    const rules = compiled();
    for (const exceptionType of ['RateLimitError', 'anthropic._exceptions.RateLimitError', '*anthropic.RateLimitError']) {
      expect(rules.classify({ exceptionType, service: 'batch-agent' })?.code, exceptionType).toBe('AGT-PROVIDER-OVERLOADED');
    }
    expect(rules.classify({ exceptionType: 'RateLimitError', service: 'chat-agent' })).toBeNull();
  });

  it('matches attributes by value, numbers and strings alike', () => {
    const rules = compiled();
    expect(rules.classify({ attributes: { 'acme.component': 'sandbox', 'acme.tier': '2' } })?.rule).toBe('operator:tenant-sandbox');
    expect(rules.classify({ attributes: { 'acme.component': 'sandbox' } })).toBeNull();
  });

  it('adds the operator’s codes to the deployment’s catalog, with their own words', () => {
    const { codes } = compiled();
    expect(codes.entries.length).toBe(CATALOG.length + 1);
    const entry = codes.get('ACME-BILLING-PORTAL-DOWN')!;
    expect(entry).toMatchObject({ category: 'delivery', retryable: 'yes', httpStatus: 503, title: 'Billing portal unavailable' });
    expect(renderUserMessage(entry, { model: 'claude-sonnet-4-5' })).toBe('Our billing portal is down, so claude-sonnet-4-5 could not finish this step.');
    expect(BUILTIN_CODES.get('ACME-BILLING-PORTAL-DOWN')).toBeUndefined();
  });
});

describe('operator rules: the file shape says what is wrong', () => {
  const problems = (input: unknown) => {
    const parsed = operatorRulesFileSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses a code in the built-in AGT- namespace', () => {
    expect(problems({ codes: [{ ...file.codes[0], code: 'AGT-ACME-DOWN' }], rules: file.rules })).toContainEqual(
      'codes.0.code: AGT- codes are the built-in catalog’s; give your codes your own prefix',
    );
  });

  it('refuses a rule whose code exists nowhere, a bad regex, a duplicate id and a rule without conditions', () => {
    const bad = {
      codes: file.codes,
      rules: [
        { id: 'a', match: { message: 'x' }, code: 'ACME-NOPE' },
        { id: 'b', match: { message: '(unclosed' }, code: 'AGT-TOOL-FAILED' },
        { id: 'b', match: { service: 's' }, code: 'AGT-TOOL-FAILED' },
        { id: 'c', match: {}, code: 'AGT-TOOL-FAILED' },
      ],
    };
    const found = problems(bad);
    expect(found).toContainEqual('rules.0.code: ACME-NOPE is neither a built-in code (GET /api/codes) nor defined under codes');
    expect(found.some((p) => p.startsWith('rules.1.match.message: is not a valid regular expression'))).toBe(true);
    expect(found).toContainEqual('rules.2.id: rule id b is used twice');
    expect(found).toContainEqual('rules.3.match: needs at least one of exceptionType, message, attributes, service');
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    expect(problems({ rules: [{ id: 'a', match: { exceptiontype: 'X' }, code: 'AGT-TOOL-FAILED' }] })[0]).toMatch(/^rules\.0\.match/);
  });
});
