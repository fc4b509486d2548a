/**
 * Error grouping (DESIGN §4): one fingerprint per problem, from the code, the exception type and
 * the message with its variable parts (ids, numbers, urls, quoted values, …) replaced by
 * placeholders, Sentry-style. One code can hold several problems; one problem is one group.
 *
 * Pure: no node:* imports; runs in the SDK, the collector and the browser.
 */

/** Longer messages are cut before normalising: the start of a message names the problem. */
const MAX_MESSAGE = 2000;

type Replacement = readonly [RegExp, string | ((match: string, ...groups: string[]) => string)];

/**
 * Applied in order; earlier rules protect their matches from later ones (a url's digits never
 * become <int>).
 */
const REPLACEMENTS: readonly Replacement[] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>()[\]{}]+/gi, '<url>'],
  [/\b[\w.+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi, '<email>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g, '<date>'],
  [/\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b/g, '<time>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<ip>'],
  [/\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b/gi, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hex ids (sha, trace and span ids, object ids): 8+ hex digits with at least one digit.
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  // Prefixed provider ids: req_011CSH…, msg_01…, toolu_01…, org-AbC123…, chatcmpl-9x…
  [/\b([a-z][a-z0-9]{1,15}[_-])(?=[a-z0-9]*\d)[a-z0-9]{8,}\b/gi, (_m, prefix: string) => `${prefix}<id>`],
  [/\b\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/gi, '<duration>'],
  [/\b\d+\.\d+\b/g, '<float>'],
  [/\b\d+\b/g, '<int>'],
  // Quoted single tokens ('gpt-4o', "/tmp/x", `abc123`), but not JSON keys and not enum-like words
  // (invalid_request_error), which name the problem rather than an instance of it.
  [
    /(?<![\w"'`])(["'`])([^\s"'`,:{}[\]]{1,200})\1(?!\s*:)/g,
    (match: string, _quote: string, inner: string) => (/^[a-z]+(?:_[a-z]+)*$/i.test(inner) ? match : '<quoted>'),
  ],
];

/** The message with its variable parts replaced, so messages about one problem compare equal. */
export function normalizeMessage(message: string): string {
  if (typeof message !== 'string') return '';
  let text = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) : message;
  for (const [pattern, replacement] of REPLACEMENTS) {
    text = text.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  }
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * 64-bit non-cryptographic hash (cyrb53's mixing, both 32-bit halves kept) as 16 hex characters.
 * Pure JS so it gives the same value in Node and in the browser.
 */
export function hash64(input: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < input.length; i++) {
    const ch = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}

export interface FingerprintInput {
  code: string;
  exceptionType?: string | null;
  message?: string | null;
}

/** Stable group key of an error occurrence: 16 hex characters. */
export function fingerprint(input: FingerprintInput): string {
  const code = typeof input.code === 'string' ? input.code : '';
  const type = typeof input.exceptionType === 'string' ? input.exceptionType.trim() : '';
  const message = typeof input.message === 'string' ? normalizeMessage(input.message) : '';
  return hash64(`${code}\u0000${type}\u0000${message}`);
}
