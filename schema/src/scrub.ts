/**
 * Secret scrubbing (DESIGN §9): API keys, bearer tokens, passwords and the like are replaced
 * before anything is stored or shown — in messages, attribute values and keys, names and ids.
 *
 * Linear time by construction, because the input is hostile (one 128 KB string once froze the
 * collector for 21 s). Each of six passes walks the text once, left to right, and never
 * returns to what it has passed:
 * - every search starts at a literal (a keyword, `://`, `-----BEGIN`, a scheme, a name word);
 * - a rule is tried only where its characters START (the one before is not one of them), so a
 *   run of them is attempted once, not from each of its positions;
 * - quantifiers are bounded, or open only where nothing after them can fail;
 * - what a pass has scanned (a name, a value, a URL) it jumps over.
 * The rules are data (secret-rules.ts, from gitleaks). Strings longer than MAX_SCRUB_CHARS are
 * cut, so one string can cost at most that much. The passes are hand-written rather than one
 * library regex because no linear-time engine runs in the browser, the SDK and the collector
 * at this speed (RE2 ports are 10–50× slower in JavaScript).
 *
 * Pure: no node:* imports; runs in the SDK, the collector and the browser.
 */
import { hash64 } from './fingerprint.ts';
import {
  AUTH_SCHEMES,
  AUTH_SCHEME_PROSE,
  SECRET_KEY_QUALIFIERS,
  SECRET_NAME_WORDS,
  TOKEN_RULES,
  WHOLE_LINE_NAMES,
  type TokenRule,
} from './secret-rules.ts';

export const REDACTED = '[REDACTED]';

/**
 * Longest string scrubbed; the rest is cut (and says so). 1 MiB scrubs in ~10–30 ms; every
 * stored text field is far shorter (messages 4 KB, stacks 16 KB).
 */
export const MAX_SCRUB_CHARS = 1 << 20;

/** How a found secret is replaced. */
type Mask = (secret: string) => string;

const constantMask: Mask = () => REDACTED;

/**
 * For identifiers (session ids, attribute keys, fingerprints): the same secret always gives the
 * same tag and two secrets different tags, so a session whose id held a token is still one
 * session, and never merged with another.
 */
const taggedMask: Mask = (secret) => `[REDACTED:${hash64(secret).slice(0, 8)}]`;

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  if (edits.length === 0) return text;
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}

const isRedacted = (text: string, at: number): boolean => text.startsWith('[REDACTED', at);

// ---------------------------------------------------------------------------------------------
// Pass 1: PEM private keys, whole — or, when cut off before their END line, to the end of the
// key material.

const PEM_BEGIN = /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/gi;
const PEM_END = /-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/gi;
/** Where the material of a truncated key ends: a quote, a bracket or the end of the text. */
const PEM_STOP = new Set(['"', "'", '`', '<', '>', '{', '}', '[', ']']);

function scrubPem(text: string, mask: Mask): string {
  PEM_BEGIN.lastIndex = 0;
  const edits: Edit[] = [];
  // Once no END follows some position, none follows any later one: never search twice.
  let noEndAfter = Infinity;
  for (let m = PEM_BEGIN.exec(text); m; m = PEM_BEGIN.exec(text)) {
    const start = m.index;
    let end = -1;
    if (PEM_BEGIN.lastIndex < noEndAfter) {
      PEM_END.lastIndex = PEM_BEGIN.lastIndex;
      const e = PEM_END.exec(text);
      if (e) end = e.index + e[0].length;
      else noEndAfter = PEM_BEGIN.lastIndex;
    }
    if (end < 0) {
      end = PEM_BEGIN.lastIndex;
      while (end < text.length && !PEM_STOP.has(text[end])) end++;
    }
    edits.push({ start, end, text: mask(text.slice(start, end)) });
    PEM_BEGIN.lastIndex = end;
  }
  return applyEdits(text, edits);
}

// ---------------------------------------------------------------------------------------------
// Pass 2: passwords in URLs. `scheme://user:password@host`, where the password may itself hold
// `@` or `/` (people do write them unescaped): it runs to the LAST `@` before the query.

const URL_TOKEN_END = new Set([' ', '\t', '\n', '\r', '"', "'", '`', '<', '>']);

function scrubUrlPasswords(text: string, mask: Mask): string {
  let p = text.indexOf('://');
  if (p < 0) return text;
  const edits: Edit[] = [];
  while (p >= 0) {
    const from = p + 3;
    const next = text.indexOf('://', from);
    // This URL's part: up to the next URL or the end of the token, whichever comes first.
    const limit = next < 0 ? text.length : next;
    let colon = -1;
    let lastAt = -1;
    let end = from;
    for (; end < limit; end++) {
      const c = text[end];
      if (URL_TOKEN_END.has(c)) break;
      if (colon < 0) {
        if (c === ':') colon = end;
        else if (c === '@' || c === '/' || c === '?' || c === '#') break;
      } else if (c === '@') lastAt = end;
      else if (c === '?' || c === '#') break;
    }
    if (colon >= 0 && lastAt > colon + 1 && !isRedacted(text, colon + 1)) {
      edits.push({ start: colon + 1, end: lastAt, text: mask(text.slice(colon + 1, lastAt)) });
    }
    p = next;
  }
  return applyEdits(text, edits);
}

// ---------------------------------------------------------------------------------------------
// Pass 3: provider tokens with a literal prefix (secret-rules.ts TOKEN_RULES).

interface CompiledRule {
  rule: TokenRule;
  re: RegExp;
  startRe: RegExp;
  before: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** keyword → the rules to try there: its own and those of every shorter keyword it starts with. */
const RULES_BY_KEYWORD = new Map<string, CompiledRule[]>();
const KEYWORDS = [...new Set(TOKEN_RULES.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length);
{
  const compiled = TOKEN_RULES.map((rule) => ({
    rule,
    re: new RegExp(rule.pattern, rule.ignoreCase ? 'iy' : 'y'),
    startRe: new RegExp(`[${rule.start}]`),
    before: rule.before ?? 0,
  }));
  // The longest keyword that a rule shares with `kw` ranks it: sk-ant-api03 rules before sk- rules.
  const rank = (c: CompiledRule, kw: string) => Math.max(0, ...c.rule.keywords.filter((k) => kw.startsWith(k)).map((k) => k.length));
  for (const kw of KEYWORDS) {
    RULES_BY_KEYWORD.set(kw, compiled.filter((c) => rank(c, kw) > 0).sort((a, b) => rank(b, kw) - rank(a, kw)));
  }
}
// Keywords at the start of a token, after no letter or digit (what every rule's `start` class
// excludes anyway), so a run of letters costs no attempts; keywords inside a secret (`before`)
// are searched as they are.
const KEYWORD_RE = new RegExp(
  `(?<![A-Za-z0-9])(?:${KEYWORDS.filter((k) => !TOKEN_RULES.some((r) => r.before && r.keywords.includes(k))).map(escapeRe).join('|')})` +
    `|${TOKEN_RULES.filter((r) => r.before).flatMap((r) => r.keywords).map(escapeRe).join('|')}`,
  'gi',
);
/** After a match, the rest of its token goes too: a key with extra characters is still that key. */
const TOKEN_TAIL = /[A-Za-z0-9_\-+/=]*/y;

function scrubTokens(text: string, mask: Mask): string {
  KEYWORD_RE.lastIndex = 0;
  const edits: Edit[] = [];
  for (let m = KEYWORD_RE.exec(text); m; m = KEYWORD_RE.exec(text)) {
    const at = m.index;
    let matched = false;
    for (const c of RULES_BY_KEYWORD.get(m[0].toLowerCase()) ?? []) {
      const start = at - c.before;
      if (start < 0 || (start > 0 && c.startRe.test(text[start - 1]))) continue;
      c.re.lastIndex = start;
      const hit = c.re.exec(text);
      if (!hit) continue;
      TOKEN_TAIL.lastIndex = start + hit[0].length;
      TOKEN_TAIL.exec(text);
      const end = TOKEN_TAIL.lastIndex;
      // A rule that starts before its keyword may overlap the previous edit; keep the earlier one.
      if (edits.length > 0 && start < edits[edits.length - 1].end) continue;
      edits.push({ start, end, text: mask(text.slice(start, end)) });
      KEYWORD_RE.lastIndex = end;
      matched = true;
      break;
    }
    if (!matched) KEYWORD_RE.lastIndex = at + 1;
  }
  return applyEdits(text, edits);
}

// ---------------------------------------------------------------------------------------------
// Pass 4: credentials after an Authorization scheme (`Bearer abc`, `Basic dXNlcjpwYXNz`).

// Not after `=` or `-`: `token_type=bearer` is a value and `x-bearer` a name, not a scheme.
const SCHEME_RE = /(?<![=\w-])(?:bearer|basic)[ \t]+/gi;
// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const CREDENTIAL = /[A-Za-z0-9\-._~+/]*=*/y;
const PROSE = new Set(AUTH_SCHEME_PROSE);

function credentialEnd(text: string, from: number): number {
  CREDENTIAL.lastIndex = from;
  CREDENTIAL.exec(text);
  let end = CREDENTIAL.lastIndex;
  while (end > from && text[end - 1] === '.') end--; // the end of a sentence, not of the token
  return end;
}

function scrubAuthSchemes(text: string, mask: Mask): string {
  SCHEME_RE.lastIndex = 0;
  const edits: Edit[] = [];
  for (let m = SCHEME_RE.exec(text); m; m = SCHEME_RE.exec(text)) {
    const from = SCHEME_RE.lastIndex;
    const end = credentialEnd(text, from);
    SCHEME_RE.lastIndex = end;
    const credential = text.slice(from, end);
    if (credential === '' || PROSE.has(credential.toLowerCase())) continue;
    // "Basic" is also an English word: its credential must look like base64 (user:pass encoded).
    if (m[0][1] === 'a' || m[0][1] === 'A') {
      if (credential.length < 8 && !credential.endsWith('=')) continue;
    }
    edits.push({ start: from, end, text: mask(credential) });
  }
  return applyEdits(text, edits);
}

// ---------------------------------------------------------------------------------------------
// Pass 5: `name=value`, `name: value`, `"name": "value"`, `--name value`, where the name says
// the value is a secret (SECRET_NAME_WORDS): dbPassword, client_secret, X-Api-Key, AccountKey.

const STRONG_WORDS = new Set(SECRET_NAME_WORDS.filter((w) => !['pass', 'auth', 'sig', 'signature'].includes(w)));
/** Words that are secret names only with `=` (query strings, env, connection strings): in prose they are words. */
const WEAK_WORDS = new Set(['pass', 'auth', 'sig', 'signature']);
const KEY_QUALIFIERS = new Set(SECRET_KEY_QUALIFIERS);
const WHOLE_LINE = new Set(WHOLE_LINE_NAMES);
const SCHEMES = new Set(AUTH_SCHEMES);
/** Longest name considered; longer identifiers are data, not names. */
const MAX_NAME = 128;

/**
 * Words of a name, lowercase: split at `_ - .` and camelCase humps
 * (`dbPassword`, `DBPassword`, `DB_PASSWORD`, `db-password` → db, password). Linear.
 */
export function nameWords(name: string): string[] {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '_' || c === '-' || c === '.' || c === ' ' || c === ':' || c === '/') {
      if (word) words.push(word);
      word = '';
      continue;
    }
    const upper = c >= 'A' && c <= 'Z';
    if (upper && word) {
      const prev = name[i - 1];
      const prevUpper = prev >= 'A' && prev <= 'Z';
      const next = name[i + 1];
      const nextLower = next !== undefined && next >= 'a' && next <= 'z';
      // fooBar → foo|Bar; FOOBar → FOO|Bar; FOOBAR stays whole.
      if (!prevUpper || nextLower) {
        words.push(word);
        word = '';
      }
    }
    word += c.toLowerCase();
  }
  if (word) words.push(word);
  return words;
}

/** 'strong': a secret name anywhere; 'weak': only before `=`; null: not a secret name. */
function secretNameStrength(words: string[]): 'strong' | 'weak' | null {
  const last = words[words.length - 1];
  if (last === undefined) return null;
  if (STRONG_WORDS.has(last)) return 'strong';
  if (WEAK_WORDS.has(last)) return 'weak';
  if (last === 'key') {
    if (words.length === 1) return 'weak';
    return KEY_QUALIFIERS.has(words[words.length - 2]) ? 'strong' : null;
  }
  // One-word compounds: accesstoken, dbpassword, secretkey, apikey.
  for (const w of STRONG_WORDS) if (last.length > w.length && last.endsWith(w) && w.length >= 5) return 'strong';
  if (last.endsWith('key') && KEY_QUALIFIERS.has(last.slice(0, -3))) return 'strong';
  return null;
}

/** Whether an attribute key names a secret value (its last dotted segment decides). */
export function isSecretKey(key: string): boolean {
  if (typeof key !== 'string') return false;
  const words = nameWords(key.slice(key.lastIndexOf('.') + 1));
  // "key" alone is a message key, a cache key, a map key: only `key=` in text is treated as one.
  if (words.length === 1 && words[0] === 'key') return false;
  return secretNameStrength(words) !== null;
}

const NAME_HIT = /pass|pwd|secret|token|cred|auth|cookie|sig|key/gi;
const isNameChar = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || c === '-' || c === '.');
const VALUE_END = new Set([' ', '\t', '\n', '\r', '&', ',', ';', '"', "'", '`', '<', '>', ')', '}', ']', '\\']);
const LINE_END = new Set(['\n', '\r']);

function scrubNamedValues(text: string, mask: Mask): string {
  NAME_HIT.lastIndex = 0;
  const edits: Edit[] = [];
  let scannedTo = 0;
  for (let m = NAME_HIT.exec(text); m; m = NAME_HIT.exec(text)) {
    // The whole name around the hit; never left of what was already scanned.
    let s = m.index;
    while (s > scannedTo && isNameChar(text[s - 1]) && m.index - s < MAX_NAME) s--;
    let e = m.index + m[0].length;
    while (isNameChar(text[e])) e++;
    NAME_HIT.lastIndex = e;
    scannedTo = e;
    if (e - s > MAX_NAME || (s > 0 && isNameChar(text[s - 1]))) continue;
    let name = text.slice(s, e);
    // A trailing dot ends a sentence ("set GITHUB_TOKEN."), it is not part of the name.
    while (name.endsWith('.')) name = name.slice(0, -1);
    const strength = secretNameStrength(nameWords(name));
    if (!strength) continue;

    let j = s + name.length;
    const quote = text[s - 1];
    if ((quote === '"' || quote === "'") && text[j] === quote) j++;
    let spaces = 0;
    while ((text[j] === ' ' || text[j] === '\t') && spaces < 8) j++, spaces++;
    let sep = '';
    if (text[j] === '=' && text[j + 1] === '>') sep = '=>';
    else if (text[j] === ':' && text[j + 1] === '=') sep = ':=';
    else if (text[j] === '=' && text[j + 1] !== '=') sep = '=';
    else if (text[j] === ':' && text[j + 1] !== '/' && text[j + 1] !== ':') sep = ':';
    else if (name.startsWith('--') && spaces === 1) sep = ' '; // --password hunter2
    if (!sep || (strength === 'weak' && sep !== '=')) continue;
    let v = j + (sep === ' ' ? 0 : sep.length);
    spaces = 0;
    while ((text[v] === ' ' || text[v] === '\t') && spaces < 8) v++, spaces++;

    const words = nameWords(name);
    const wholeLine = WHOLE_LINE.has(words[words.length - 1]);
    // `Authorization: Bearer x`: the scheme stays, the credential goes.
    if (wholeLine) {
      let w = v;
      while (w < text.length && /[A-Za-z]/.test(text[w]) && w - v < 16) w++;
      if (SCHEMES.has(text.slice(v, w).toLowerCase()) && (text[w] === ' ' || text[w] === '\t')) v = w + 1;
    }
    let valueStart = v;
    let valueEnd: number;
    const open = text[v];
    if (open === '"' || open === "'" || open === '`') {
      valueStart = v + 1;
      valueEnd = valueStart;
      while (valueEnd < text.length && text[valueEnd] !== open && !LINE_END.has(text[valueEnd])) {
        valueEnd += text[valueEnd] === '\\' ? 2 : 1;
      }
      valueEnd = Math.min(valueEnd, text.length);
    } else if (wholeLine) {
      valueEnd = v;
      while (valueEnd < text.length && !LINE_END.has(text[valueEnd]) && text[valueEnd] !== '"' && text[valueEnd] !== "'") valueEnd++;
      while (valueEnd > v && text[valueEnd - 1] === ' ') valueEnd--;
    } else {
      valueEnd = v;
      while (valueEnd < text.length && !VALUE_END.has(text[valueEnd])) valueEnd++;
      while (valueEnd > v && text[valueEnd - 1] === '.') valueEnd--;
      // `InvalidToken: Cookie: sessionid=…`: a "Name:" label is not the value; scan on from it, so the
      // header it introduces is read as a name of its own.
      if (valueEnd > v && text[valueEnd - 1] === ':') {
        NAME_HIT.lastIndex = v;
        scannedTo = v;
        continue;
      }
    }
    NAME_HIT.lastIndex = Math.max(e, valueEnd);
    scannedTo = NAME_HIT.lastIndex;
    if (valueEnd <= valueStart || isRedacted(text, valueStart)) continue;
    edits.push({ start: valueStart, end: valueEnd, text: mask(text.slice(valueStart, valueEnd)) });
  }
  return applyEdits(text, edits);
}

// ---------------------------------------------------------------------------------------------
// Pass 6: a bare AWS secret access key: exactly 40 base64 characters, mixed case with a digit
// or symbol (a git sha is lowercase hex and never matches).

const AWS_SECRET_SHAPE = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;

function looksRandom(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9+/]/.test(s) && new Set(s).size >= 20;
}

function scrubAwsSecretShapes(text: string, mask: Mask): string {
  return text.replace(AWS_SECRET_SHAPE, (s) => (looksRandom(s) ? mask(s) : s));
}

// ---------------------------------------------------------------------------------------------

const PASSES = [scrubPem, scrubUrlPasswords, scrubTokens, scrubAuthSchemes, scrubNamedValues, scrubAwsSecretShapes];

function capped(text: string): string {
  if (text.length <= MAX_SCRUB_CHARS) return text;
  return `${text.slice(0, MAX_SCRUB_CHARS)}…[${text.length - MAX_SCRUB_CHARS} more characters cut: longer values are not kept]`;
}

function scrubWith(text: string, mask: Mask): string {
  if (typeof text !== 'string' || text === '') return text;
  let out = capped(text);
  for (const pass of PASSES) out = pass(out, mask);
  return out;
}

/** The text with every secret we recognise replaced by `[REDACTED]`. */
export function scrubSecrets(text: string): string {
  return scrubWith(text, constantMask);
}

/**
 * For values that identify something (a session id, an attribute key, a fingerprint): each
 * secret becomes `[REDACTED:<8 hex>]`, the same for the same secret and different for different
 * ones, so identity and grouping survive. The tag is 32 bits of a non-cryptographic hash: it
 * tells two long random keys apart and reveals nothing useful about them, but a short guessable
 * password could be confirmed by hashing guesses (docs/security.md).
 */
export function scrubIdentifier(text: string): string {
  return scrubWith(text, taggedMask);
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
    out[scrubIdentifier(key)] = isSecretKey(key) && value !== null && value !== undefined && value !== '' ? REDACTED : scrubValue(value, depth, seen);
  }
  return out;
}

/**
 * A copy of the attributes with secrets removed: whole values under secret-looking names,
 * secrets inside any string value (recursively through arrays and plain objects), and secrets
 * in the keys themselves.
 */
export function scrubAttributes(attrs: Record<string, unknown>): Record<string, unknown> {
  if (attrs === null || typeof attrs !== 'object') return {};
  return scrubRecord(attrs, 0, new WeakSet());
}
