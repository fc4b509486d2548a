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

/** The friendly words for a code, with {provider}/{model} filled in. */
export function wordsFor(code: string, vars: { provider?: string; model?: string }): Words {
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
