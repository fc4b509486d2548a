/**
 * Secret scrubbing (DESIGN §9): API keys, bearer tokens, passwords in URLs and the like are
 * removed from messages and attributes before anything is stored or shown.
 *
 * Pure: no node:* imports; runs in the SDK, the collector and the browser.
 */

export const REDACTED = '[REDACTED]';

type Replacement = readonly [RegExp, string];

/** Characters secrets are made of (base64, base64url, hex, dashes). */
const SECRET_CHARS = '[A-Za-z0-9._~+/=-]';

/** Names whose value is a secret; the name must end here, so `input_tokens` is not one. */
const SECRET_NAME =
  '[A-Za-z0-9_.-]*?(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|secret|password|passwd|pwd|token|credentials?)';

const REPLACEMENTS: readonly Replacement[] = [
  // PEM private keys, whole.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED],
  // scheme://user:password@host → scheme://user:***@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]+@/gi, '$1:***@'],
  // Authorization header values.
  [new RegExp(`\\b(Bearer|Basic|Token|Digest)\\s+${SECRET_CHARS}{8,}`, 'gi'), `$1 ${REDACTED}`],
  // JWTs.
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g, REDACTED],
  // OpenAI / Anthropic keys: sk-…, sk-proj-…, sk-ant-api03-…; Stripe-style sk_live_….
  [/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g, REDACTED],
  // GitHub tokens.
  [/\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, REDACTED],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, REDACTED],
  // AWS access key ids.
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b/g, REDACTED],
  // Google API keys; Slack tokens.
  [/\bAIza[A-Za-z0-9_-]{35}\b/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  // name=value in query strings, env dumps and logs: api_key=…, token=…, password=…
  [
    new RegExp(`(\\b${SECRET_NAME})(\\s*=\\s*)(["']?)(?!\\[REDACTED\\])[^\\s"'&,;}\\]]+`, 'gi'),
    `$1$2$3${REDACTED}`,
  ],
  // "name": "value" in JSON and YAML-ish text; unquoted values only when they look like a secret.
  [
    new RegExp(`(["']${SECRET_NAME}["']\\s*:\\s*)(["'])(?!\\[REDACTED\\])[^"']*\\2`, 'gi'),
    `$1$2${REDACTED}$2`,
  ],
  [
    new RegExp(
      `(\\b${SECRET_NAME}\\s*:\\s*)(?!\\[REDACTED\\]|Bearer\\b|Basic\\b)(?=${SECRET_CHARS}*\\d)${SECRET_CHARS}{16,}`,
      'gi',
    ),
    `$1${REDACTED}`,
  ],
];

/**
 * A literal every pattern above needs (case-insensitive superset). Most text — stack traces,
 * provider messages — contains none, and one scan is far cheaper than fourteen.
 */
const MAY_HOLD_SECRET =
  /key|secret|passw|pwd|token|credential|bearer|basic|digest|:\/\/[^\s:@/]*:|eyj|sk-|[sr]k_|gh[pousr]_|github_pat_|akia|asia|agpa|aida|aroa|aiza|xox/i;

/** The text with every secret we recognise replaced by `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  if (typeof text !== 'string' || text === '' || !MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of REPLACEMENTS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * Attribute names whose whole value is a secret. Matched on the last dotted segment, so
 * `http.request.header.authorization` is secret while `gen_ai.usage.input_tokens` is not.
 */
const SECRET_KEY =
  /^(?:(?:proxy_)?authorization|(?:set_)?cookie|(?:[a-z0-9]+_)*(?:token|secret|password|passwd|api_?key|access_key|secret_key|private_key|credentials?))$/;

export function isSecretKey(key: string): boolean {
  const last = key.slice(key.lastIndexOf('.') + 1).toLowerCase().replace(/-/g, '_');
  return SECRET_KEY.test(last);
}

/** Deeper structures are cut: attributes are flat in OTLP, and a cycle must not loop forever. */
const MAX_DEPTH = 8;

function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || seen.has(value)) return REDACTED;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1, seen));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return scrubRecord(value as Record<string, unknown>, depth + 1, seen);
  } finally {
    seen.delete(value);
  }
}

function scrubRecord(record: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = isSecretKey(key) && value !== null && value !== undefined && value !== '' ? REDACTED : scrubValue(value, depth, seen);
  }
  return out;
}

/**
 * A copy of the attributes with secrets removed: whole values under secret-looking names, and
 * secrets inside any string value (recursively through arrays and plain objects).
 */
export function scrubAttributes(attrs: Record<string, unknown>): Record<string, unknown> {
  if (attrs === null || typeof attrs !== 'object') return {};
  return scrubRecord(attrs, 0, new WeakSet());
}
