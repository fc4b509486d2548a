import { describe, expect, it } from 'vitest';
import { MAX_SCRUB_CHARS, REDACTED, isSecretKey, nameWords, scrubAttributes, scrubIdentifier, scrubSecrets } from './scrub.ts';
import { TOKEN_RULES } from './secret-rules.ts';
import { SECRET_SHAPES } from '../../test/support/secret-shapes.ts';

// Fake but well-formed secrets.
const ANTHROPIC_KEY = 'sk-ant-api03-Zx8vQ2mN4pL6rT1yU3wE5oI7aS9dF0gH2jK4lZ6xC8vB1nM3qW5eR7tY9uI0oP2aS4dF6gH8jK-0AbCdEAA';
const OPENAI_PROJECT_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx1234567890abcdEFGH';
const OPENAI_LEGACY_KEY = 'sk-9aBcDeFgHiJkLmNoPqRsT3BlbkFJ12345678abcd';
const GITHUB_PAT = 'ghp_R2aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3w';
const GITHUB_FINE = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUiLCJpYXQiOjE1MTYyMzkwMjJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';

describe('scrubSecrets', () => {
  it.each([
    ['an Anthropic key', `invalid x-api-key: ${ANTHROPIC_KEY}`],
    ['an OpenAI project key', `Incorrect API key provided: ${OPENAI_PROJECT_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`],
    ['an OpenAI legacy key', `OPENAI_API_KEY=${OPENAI_LEGACY_KEY} codex exec`],
    ['a GitHub token', `remote: Invalid username or password. token ${GITHUB_PAT}`],
    ['a fine-grained GitHub token', `COPILOT_GITHUB_TOKEN is ${GITHUB_FINE}`],
    ['an AWS access key id', 'The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE'],
    ['a JWT', `session cookie ${JWT} expired`],
  ])('removes %s', (_kind, text) => {
    const out = scrubSecrets(text);
    expect(out).toContain(REDACTED);
    for (const secret of [ANTHROPIC_KEY, OPENAI_PROJECT_KEY, OPENAI_LEGACY_KEY, GITHUB_PAT, GITHUB_FINE, 'AKIAIOSFODNN7EXAMPLE', JWT]) {
      expect(out).not.toContain(secret);
    }
  });

  it('keeps the words around a secret readable', () => {
    expect(scrubSecrets(`Incorrect API key provided: ${OPENAI_PROJECT_KEY}.`)).toBe(`Incorrect API key provided: ${REDACTED}.`);
  });

  it('removes bearer and basic credentials but keeps the scheme', () => {
    expect(scrubSecrets('Authorization: Bearer ya29.a0AfH6SMBx3kq-9f8dQwErTyUiOp')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(scrubSecrets('curl -H "Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg=="')).toBe(`curl -H "Authorization: Basic ${REDACTED}"`);
  });

  it("masks passwords in URLs and keeps the user and host", () => {
    expect(scrubSecrets('connect failed: postgres://faultline:s3cr3t-P%40ss@db.internal:5432/faultline')).toBe(
      'connect failed: postgres://faultline:[REDACTED]@db.internal:5432/faultline',
    );
    expect(scrubSecrets('https://example.com:8443/path?q=1')).toBe('https://example.com:8443/path?q=1');
  });

  it('removes secret query parameters and JSON values', () => {
    expect(scrubSecrets('GET https://api.example.com/v1/items?api_key=abc123def456&limit=10')).toBe(
      `GET https://api.example.com/v1/items?api_key=${REDACTED}&limit=10`,
    );
    expect(scrubSecrets('callback?token=tok_live_77&state=xyz')).toBe(`callback?token=${REDACTED}&state=xyz`);
    expect(scrubSecrets('{"user":"jane","password":"hunter2","api_key": "k-123"}')).toBe(
      `{"user":"jane","password":"${REDACTED}","api_key": "${REDACTED}"}`,
    );
    expect(scrubSecrets('password=correct horse')).toBe(`password=${REDACTED} horse`);
  });

  it('removes PEM private keys whole', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----';
    expect(scrubSecrets(`loaded ${pem} ok`)).toBe(`loaded ${REDACTED} ok`);
  });

  it('leaves ordinary error text alone', () => {
    const texts = [
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      'Rate limit reached for gpt-4.1-mini on tokens per min (TPM): Limit 30000, Used 29000, Requested 1532.',
      '{"input_tokens": 1532, "output_tokens": 12, "max_tokens": 4096}',
      'OAuth token has expired. Please obtain a new token or refresh your existing token.',
      'request req_011CSHoEeqs5C35K2UUqR7Fy trace 4bf92f3577b34da6a3ce929d0e0e4736',
      'No authentication information found. Set COPILOT_GITHUB_TOKEN, GH_TOKEN, or GITHUB_TOKEN.',
    ];
    for (const text of texts) expect(scrubSecrets(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = scrubSecrets(`api_key=${OPENAI_LEGACY_KEY} Authorization: Bearer ${JWT}`);
    expect(scrubSecrets(once)).toBe(once);
    expect(once).not.toMatch(/REDACTED\]\s*\[REDACTED/);
  });
});

describe('scrubAttributes', () => {
  it('redacts whole values under secret-looking keys and keeps harmless ones', () => {
    const out = scrubAttributes({
      'http.request.header.authorization': ['Bearer abc.def.ghi'],
      'http.request.header.x-api-key': ANTHROPIC_KEY,
      'http.request.header.cookie': 'session=abc; theme=dark',
      api_key: 'anything',
      apikey: 'anything',
      'db.password': 'hunter2',
      'modal.token_secret': 'as-123',
      'github_token': 'gho_short',
      'gen_ai.usage.input_tokens': 1532,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.request.max_tokens': 4096,
      'faultline.heartbeat.events_processed': 10,
      'session.id': 'sess-42',
      'faultline.session.status_message': 'Creating execution environment...',
    });
    expect(out).toEqual({
      'http.request.header.authorization': REDACTED,
      'http.request.header.x-api-key': REDACTED,
      'http.request.header.cookie': REDACTED,
      api_key: REDACTED,
      apikey: REDACTED,
      'db.password': REDACTED,
      'modal.token_secret': REDACTED,
      github_token: REDACTED,
      'gen_ai.usage.input_tokens': 1532,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.request.max_tokens': 4096,
      'faultline.heartbeat.events_processed': 10,
      'session.id': 'sess-42',
      'faultline.session.status_message': 'Creating execution environment...',
    });
  });

  it('scrubs secrets inside string values, arrays and nested objects without mutating the input', () => {
    const input = {
      'exception.message': `401 invalid x-api-key ${ANTHROPIC_KEY}`,
      'process.command_args': ['claude', '-p', `--api-key=${OPENAI_LEGACY_KEY}`],
      request: { url: 'https://u:p4ss@proxy.internal/v1', headers: { Authorization: 'Bearer tok_0123456789abcdef' }, retries: 2 },
    };
    const copy = structuredClone(input);
    const out = scrubAttributes(input);
    expect(out).toEqual({
      'exception.message': `401 invalid x-api-key ${REDACTED}`,
      'process.command_args': ['claude', '-p', `--api-key=${REDACTED}`],
      request: { url: 'https://u:[REDACTED]@proxy.internal/v1', headers: { Authorization: REDACTED }, retries: 2 },
    });
    expect(input).toEqual(copy);
  });

  it('survives cycles and non-plain values', () => {
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    const bytes = new Uint8Array([1, 2, 3]);
    const out = scrubAttributes({ cyclic, bytes, nothing: null, token: null });
    expect((out.cyclic as Record<string, unknown>).self).toBe(REDACTED);
    expect(out.bytes).toBe(bytes);
    expect(out.nothing).toBeNull();
    expect(out.token).toBeNull();
  });

  it('recognises secret keys by their last segment', () => {
    expect(isSecretKey('http.request.header.authorization')).toBe(true);
    expect(isSecretKey('http.request.header.proxy-authorization')).toBe(true);
    expect(isSecretKey('OPENAI_API_KEY')).toBe(true);
    expect(isSecretKey('gen_ai.usage.input_tokens')).toBe(false);
    expect(isSecretKey('faultline.heartbeat.events_processed')).toBe(false);
    expect(isSecretKey('faultline.sandbox.termination_requested')).toBe(false);
  });
});

describe('the secret shapes corpus', () => {
  it.each(SECRET_SHAPES.map((s) => [s.name, s] as const))('removes a %s, as text and as an identifier', (_name, shape) => {
    for (let i = 0; i < 20; i++) {
      const sample = shape.make();
      for (const out of [scrubSecrets(sample.text), scrubIdentifier(sample.text)]) {
        for (const secret of sample.secrets) expect(out, sample.text).not.toContain(secret);
        expect(out).toContain('[REDACTED');
      }
    }
  });
});

describe('names', () => {
  it.each([
    ['dbPassword=s3cr3t-Value', 'dbPassword=[REDACTED]'],
    ['DB_PASSWORD=s3cr3t-Value', 'DB_PASSWORD=[REDACTED]'],
    ['db-password: s3cr3t-Value', 'db-password: [REDACTED]'],
    ['clientSecret: abc', 'clientSecret: [REDACTED]'],
    ['{"accessToken": "abc"}', '{"accessToken": "[REDACTED]"}'],
    ["api_key => 'abc'", "api_key => '[REDACTED]'"],
    ['X-Api-Key: abc', 'X-Api-Key: [REDACTED]'],
    ['AccountKey=abc==;x=1', 'AccountKey=[REDACTED];x=1'],
    ['pass=hunter', 'pass=[REDACTED]'],
    ['Set-Cookie: id=1; HttpOnly', 'Set-Cookie: [REDACTED]'],
    // An error head named like a secret ("InvalidToken: …") must not swallow the header after it.
    ['InvalidToken: Cookie: sessionid=abc123def456ghi', 'InvalidToken: Cookie: [REDACTED]'],
    ['AuthError: Authorization: Bearer abc.def', 'AuthError: Authorization: Bearer [REDACTED]'],
  ])('%s', (text, expected) => {
    expect(scrubSecrets(text)).toBe(expected);
  });

  it('leaves counters, ids, lengths and prose named like secrets alone', () => {
    for (const text of [
      'max_tokens=4096 input_tokens: 12 token_count=3',
      'password_length=12 token_type=bearer accessKeyId=AKID',
      'messaging.kafka.message.key=order-42 primary_key: id',
      'the pass rate was 3 of 4; OAuth token has expired',
      'Upgrade from the Basic plan',
    ]) {
      expect(scrubSecrets(text)).toBe(text);
    }
  });

  it('splits camelCase, snake_case and kebab-case names into words', () => {
    expect(nameWords('dbPassword')).toEqual(['db', 'password']);
    expect(nameWords('DBPassword')).toEqual(['db', 'password']);
    expect(nameWords('OPENAI_API_KEY')).toEqual(['openai', 'api', 'key']);
    expect(nameWords('x-api-key')).toEqual(['x', 'api', 'key']);
    expect(isSecretKey('app.clientSecret')).toBe(true);
    expect(isSecretKey('messaging.kafka.message.key')).toBe(false);
  });
});

describe('scrubIdentifier', () => {
  it('gives the same secret the same tag and different secrets different tags', () => {
    const a = `sess-${OPENAI_LEGACY_KEY}`;
    const b = `sess-${OPENAI_PROJECT_KEY}`;
    expect(scrubIdentifier(a)).toBe(scrubIdentifier(a));
    expect(scrubIdentifier(a)).not.toBe(scrubIdentifier(b));
    expect(scrubIdentifier(a)).toMatch(/^sess-\[REDACTED:[0-9a-f]{8}\]$/);
    expect(scrubIdentifier('sess-42')).toBe('sess-42');
  });

  it('scrubs attribute keys so two secret keys stay two keys', () => {
    const out = scrubAttributes({ [`k ${GITHUB_PAT}`]: 1, [`k ${OPENAI_LEGACY_KEY}`]: 2 });
    expect(Object.keys(out)).toHaveLength(2);
    expect(JSON.stringify(out)).not.toContain(GITHUB_PAT);
  });
});

describe('cost', () => {
  /** Best of three runs, in ms: the machine is shared, the minimum is what the code costs. */
  function best(fn: () => unknown): number {
    let min = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      fn();
      min = Math.min(min, performance.now() - t);
    }
    return min;
  }
  const MB = 1 << 20;
  const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  // The shapes that made the old scrubber quadratic, near misses of every rule, and each token
  // rule's keyword repeated with and without its body characters.
  const units = [
    '.', '-', '+', 'a', 'a.', 'a-', '_', 'key', 'keykey=', 'password=', 'x_token: ', '"password": "', 'AAAAKey=',
    'http://', 'a://b:', 'http://u:p@', 'https://user:pa', '-----BEGIN PRIVATE KEY-----', 'Bearer ', 'Basic ',
    'ey-', 'eyA.', 'sk-', 'sk-a', 'ghp_', 'A1b/', '--password ',
    ...TOKEN_RULES.flatMap((r) => r.keywords.map((k) => `${k}0A`)),
  ];

  it('grows linearly with the input for adversarial strings, and stays within a small multiple of a plain pass', () => {
    // A plain pass: splitting a megabyte of ordinary prose into words with one regex.
    const prose = fill('lorem ipsum dolor sit amet ', MB);
    const tPlain = best(() => prose.match(/\S+/g));
    const slow: string[] = [];
    let worstRatio = 0;
    let worstGrowth = 0;
    const measure = (unit: string) => {
      const quarter = fill(unit, MB / 4);
      const large = fill(unit, MB);
      scrubSecrets(quarter); // warm up
      const tQuarter = best(() => scrubSecrets(quarter));
      const tLarge = best(() => scrubSecrets(large));
      // Below a plain pass's time, differences are GC and timer noise, not growth.
      return { tLarge, growth: tLarge / Math.max(tQuarter * 4, tPlain), ratio: tLarge / Math.max(tPlain, 1) };
    };
    // Quadratic cost grows 4× more than linear from 256 KiB to 1 MiB and takes seconds at 1 MiB
    // (the old scrubber: ~20 min); linear cost here is 1–15× the plain pass.
    const tooSlow = (m: ReturnType<typeof measure>) => m.ratio > 40 || (m.growth > 3 && m.ratio > 10);
    for (const unit of new Set(units)) {
      let m = measure(unit);
      if (tooSlow(m)) m = measure(unit); // a neighbour's burst on the shared machine, or us?
      worstGrowth = Math.max(worstGrowth, m.growth);
      worstRatio = Math.max(worstRatio, m.ratio);
      if (tooSlow(m)) slow.push(`${JSON.stringify(unit)}: ${m.tLarge.toFixed(0)} ms/MiB, growth ×${m.growth.toFixed(1)} of linear, ×${m.ratio.toFixed(0)} plain`);
    }
    console.log(
      `[figures] scrub adversarial: ${new Set(units).size} strings of 1 MiB, worst growth 256KiB→1MiB ×${worstGrowth.toFixed(2)} of linear, ` +
        `worst ×${worstRatio.toFixed(1)} a plain pass (${tPlain.toFixed(1)} ms/MiB)`,
    );
    expect(slow).toEqual([]);
  }, 120_000);

  it('cuts a string longer than the cap, and says so', () => {
    const out = scrubSecrets(`${'a'.repeat(MAX_SCRUB_CHARS)}${OPENAI_LEGACY_KEY}`);
    expect(out.length).toBeLessThan(MAX_SCRUB_CHARS + 200);
    expect(out).toMatch(/more characters cut/);
    expect(out).not.toContain(OPENAI_LEGACY_KEY);
  });
});
