/**
 * The one place the SDK touches the catalog and classifier of `@faultline/schema`. Every call is
 * wrapped: a catalog problem degrades to the unknown code and generic words, never to a throw.
 * (A namespace import keeps the SDK loadable even against an older schema build.)
 */
import * as schema from '@faultline/schema';
import type { CatalogEntry, Category, ClassifierInput, Retryable } from '@faultline/schema';

/** The neutral unknown code: with no evidence, no provider is named in the words a user reads. */
const FALLBACK_UNKNOWN_CODE = 'AGT-WORKER-UNKNOWN';

export function unknownCode(): string {
  return typeof schema.UNKNOWN_CODE === 'string' ? schema.UNKNOWN_CODE : FALLBACK_UNKNOWN_CODE;
}

export function catalogEntry(code: string): CatalogEntry | undefined {
  try {
    return schema.getCatalogEntry(code) ?? undefined;
  } catch {
    return undefined;
  }
}

export function isKnownCode(code: unknown): code is string {
  if (typeof code !== 'string') return false;
  try {
    return schema.isCatalogCode(code);
  } catch {
    return false;
  }
}

/** What the classifier reads from `error`, as a new object the caller may add to. */
export function classifierInputFrom(error: unknown): ClassifierInput {
  try {
    return schema.classifierInputFromError(error) ?? { error };
  } catch {
    return { error };
  }
}

export function classifyInput(input: ClassifierInput): { code: string; rule: string; signal?: string | null } {
  try {
    const result = schema.classify(input);
    if (result && typeof result.code === 'string') return result;
  } catch {
    // fall through to the unknown code
  }
  return { code: isKnownCode(input.code) ? input.code : unknownCode(), rule: 'sdk-fallback' };
}

export interface Words {
  title: string;
  message: string;
  category: Category;
  retryable: Retryable;
}

const GENERIC_WORDS: Words = {
  title: 'Something went wrong',
  message: 'Something went wrong while the agent was working.',
  category: 'worker',
  retryable: 'once',
};

// Words depend only on (code, provider, model), a handful of combinations per runtime; rendering
// them once keeps the catalog lookup and template fill off every fail(). Bounded for odd inputs.
const wordsCache = new Map<string, Words>();
const WORDS_CACHE_MAX = 512;

/** The friendly words for a code, with {provider}/{model} filled in. */
let lastWords: { code: string; provider: string | undefined; model: string | undefined; words: Words } | null = null;

export function wordsFor(code: string, vars: { provider?: string; model?: string }): Words {
  // A runtime's failures mostly repeat one provider and model: the last answer usually fits.
  const last = lastWords;
  if (last && last.code === code && last.provider === vars.provider && last.model === vars.model) return last.words;
  const key = `${code}\u0000${vars.provider ?? ''}\u0000${vars.model ?? ''}`;
  let words = wordsCache.get(key);
  if (!words) {
    words = renderWords(code, vars);
    if (wordsCache.size >= WORDS_CACHE_MAX) wordsCache.clear();
    wordsCache.set(key, words);
  }
  lastWords = { code, provider: vars.provider, model: vars.model, words };
  return words;
}

function renderWords(code: string, vars: { provider?: string; model?: string }): Words {
  const entry = catalogEntry(code);
  if (!entry) return GENERIC_WORDS;
  let message = entry.userMessage;
  try {
    message = schema.renderUserMessage(entry, { provider: vars.provider, model: vars.model });
  } catch {
    // keep the unrendered copy: placeholders are better than nothing
  }
  return { title: entry.title, message, category: entry.category, retryable: entry.retryable };
}

// Used only if the schema's scrubber is unavailable: bearer tokens, provider keys, URL passwords.
const FALLBACK_SECRET_PATTERNS: [RegExp, string][] = [
  [/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[REDACTED]'],
  [/\b(sk|rk|pk)-[A-Za-z0-9_-]{8,}/g, '[REDACTED]'],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, '$1[REDACTED]@'],
];

export function scrub(text: string): string {
  try {
    const scrubbed = schema.scrubSecrets(text);
    if (typeof scrubbed === 'string') return scrubbed;
  } catch {
    // use the fallback below
  }
  let out = text;
  for (const [pattern, replacement] of FALLBACK_SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

// The classifier's signal (the text a rule matched) comes from a small set per runtime; scrubbing
// each distinct one once keeps a scrubber call off every fail().
const shortTextCache = new Map<string, string>();
const SHORT_TEXT_CACHE_MAX = 512;

/** scrub(), remembered for short texts that repeat (classifier signals). */
export function scrubRepeated(text: string): string {
  let clean = shortTextCache.get(text);
  if (clean === undefined) {
    clean = scrub(text);
    if (shortTextCache.size >= SHORT_TEXT_CACHE_MAX) shortTextCache.clear();
    shortTextCache.set(text, clean);
  }
  return clean;
}

// Errors thrown from the same call site carry the same frames: each distinct frames text is
// scrubbed once (the scrubber scans several µs per kilobyte), and only the head, with the
// message, is scrubbed per error.
const framesCache = new Map<string, string>();
const FRAMES_CACHE_MAX = 512;
const FIRST_FRAME = /\n[ \t]+at /;

let lastFrames = { raw: '', clean: '' };

function scrubFrames(frames: string): string {
  // Failures come in runs from one call site: comparing with the last frames is cheaper than
  // hashing them for the map.
  if (frames === lastFrames.raw) return lastFrames.clean;
  let clean = framesCache.get(frames);
  if (clean === undefined) {
    clean = scrub(frames);
    if (framesCache.size >= FRAMES_CACHE_MAX) framesCache.clear();
    framesCache.set(frames, clean);
  }
  lastFrames = { raw: frames, clean };
  return clean;
}

/** "Error: ", "BadRequestError: ", "Error [ERR_SOCKET_CLOSED]: ": how V8 starts a stack before the message. */
const ERROR_NAME_PREFIX = /^[A-Za-z_$][\w$.]{0,100}(?: \[[\w-]{1,64}\])?: $/;

/**
 * A stack trace without secrets. Its head is "<name>: <message>": when `message` is the error's
 * message, the head becomes the name and `message.clean` (the exception message as scrubbed for
 * its own attribute), so the stack says no more than that attribute and the message is scrubbed
 * once. Any other head is scrubbed as it is. Frames go through the cache. Only a private-key
 * block can span lines, so a head holding one is scrubbed with the rest.
 */
export function scrubStack(stack: string, message?: { raw: string; clean: string }): string {
  const first = stack.search(FIRST_FRAME);
  if (first < 0) return scrub(stack);
  const head = stack.slice(0, first);
  // A key block can only be in the message; frames are code locations.
  if (head.includes('-----BEGIN')) return scrub(stack);
  let cleanHead: string | undefined;
  if (message && message.raw && head.endsWith(message.raw)) {
    const prefix = head.slice(0, head.length - message.raw.length);
    if (ERROR_NAME_PREFIX.test(prefix)) cleanHead = prefix + message.clean;
  }
  return (cleanHead ?? scrub(head)) + scrubFrames(stack.slice(first));
}
