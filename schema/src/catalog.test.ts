import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TIMEOUT_KINDS } from './attributes.ts';
import {
  CATALOG,
  getCatalogEntry,
  isCatalogCode,
  NOT_SURFACED_CODE,
  PROVIDER_UNKNOWN_CODE,
  renderUserMessage,
  STUCK_CODE,
  UNKNOWN_CODE,
} from './catalog.ts';
import { CATEGORIES } from './catalog-types.ts';

const TAXONOMY = readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8');

interface TaxonomyRow {
  code: string;
  category: string;
  retry: string;
  http: number | null;
}

/** Every `| AGT-… |` row of §3 with the category of its `### 3.x name.*` heading. */
function taxonomyRows(): TaxonomyRow[] {
  const start = TAXONOMY.indexOf('## 3.');
  const end = TAXONOMY.indexOf('## 4.', start);
  const rows: TaxonomyRow[] = [];
  let category = '';
  for (const line of TAXONOMY.slice(start, end).split('\n')) {
    const heading = /^### 3\.\d+ (\w+)\.\*/.exec(line);
    if (heading) category = heading[1];
    if (!line.startsWith('| AGT-')) continue;
    const cells = line.split('|').map((cell) => cell.trim());
    // | Code | Source | Detect | Retry | HTTP | User/support message | Operator hint |
    const retry = /^(Y1|Y|N|U)\b/.exec(cells[4])![1];
    rows.push({ code: cells[1], category, retry, http: cells[5] === '—' ? null : Number(cells[5]) });
  }
  return rows;
}

const RETRY: Record<string, string> = { Y: 'yes', Y1: 'once', N: 'no', U: 'user' };
const rows = taxonomyRows();

describe('catalog against failure-taxonomy §3', () => {
  it('finds the 45 documented codes in the taxonomy', () => {
    expect(rows).toHaveLength(45);
  });

  it.each(rows)('$code has the category, retry and HTTP status of the taxonomy', (row) => {
    const entry = getCatalogEntry(row.code);
    expect(entry, `${row.code} missing from CATALOG`).toBeDefined();
    expect(entry!.category).toBe(row.category);
    expect(entry!.retryable).toBe(RETRY[row.retry]);
    expect(entry!.httpStatus).toBe(row.http);
  });

  it('holds no code the taxonomy does not document, besides the ones added since for a reason', () => {
    const documented = new Set(rows.map((row) => row.code));
    // The neutral unknown code: the taxonomy's only unknown code blamed the provider (issue 11).
    const addedSince = [UNKNOWN_CODE];
    expect(CATALOG.map((entry) => entry.code).filter((code) => !documented.has(code))).toEqual(addedSince);
  });
});

describe('catalog shape', () => {
  it('has unique codes in the AGT-<CATEGORY>-<REASON> scheme, prefixed by their own category', () => {
    const codes = CATALOG.map((entry) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const entry of CATALOG) {
      expect(entry.code).toMatch(/^AGT-[A-Z]+-[A-Z0-9-]+$/);
      expect(entry.code.startsWith(`AGT-${entry.category.toUpperCase()}-`)).toBe(true);
    }
  });

  it('has codes in every category', () => {
    for (const category of CATEGORIES) {
      expect(CATALOG.some((entry) => entry.category === category), category).toBe(true);
    }
  });

  it('gives every entry a title, support note, operator hint and source', () => {
    for (const entry of CATALOG) {
      for (const field of ['title', 'userMessage', 'supportNote', 'operatorHint', 'source'] as const) {
        expect(entry[field].trim().length, `${entry.code}.${field}`).toBeGreaterThan(3);
      }
    }
  });

  it('tags timeout codes with their timeout kind, and every kind has a code', () => {
    for (const entry of CATALOG.filter((e) => e.category === 'timeout')) expect(entry.timeoutKind, entry.code).toBeDefined();
    expect(getCatalogEntry('AGT-PROVIDER-TIMEOUT')!.timeoutKind).toBe('provider');
    expect(getCatalogEntry('AGT-SANDBOX-TIMEOUT')!.timeoutKind).toBe('sandbox');
    const kinds = new Set(CATALOG.map((entry) => entry.timeoutKind).filter(Boolean));
    expect([...kinds].sort()).toEqual([...TIMEOUT_KINDS].sort());
  });

  it('exports the special codes as catalog codes', () => {
    expect(getCatalogEntry(UNKNOWN_CODE)!.category).toBe('worker');
    expect(getCatalogEntry(PROVIDER_UNKNOWN_CODE)!.category).toBe('provider');
    expect(getCatalogEntry(STUCK_CODE)!.category).toBe('session');
    expect(getCatalogEntry(NOT_SURFACED_CODE)!.category).toBe('delivery');
  });

  it('recognises catalog codes only', () => {
    expect(isCatalogCode('AGT-PROVIDER-BILLING')).toBe(true);
    expect(isCatalogCode('agt-provider-billing')).toBe(false);
    expect(isCatalogCode('AGT-PROVIDER-NOPE')).toBe(false);
    expect(isCatalogCode('invalid_request_error')).toBe(false);
    expect(isCatalogCode(42)).toBe(false);
    expect(isCatalogCode(null)).toBe(false);
    expect(getCatalogEntry('constructor')).toBeUndefined();
  });
});

describe('user messages', () => {
  const variants = [{}, { provider: 'anthropic', model: 'claude-sonnet-4-5' }, { provider: null, model: null }, { provider: '  ' }];

  it.each(CATALOG.map((entry) => [entry.code, entry] as const))('%s reads as plain words in every rendering', (_code, entry) => {
    for (const vars of variants) {
      const text = renderUserMessage(entry, vars);
      expect(text).not.toMatch(/\{\w+\}/);
      expect(text).not.toMatch(/\b\w*Error:|^Error\b/);
      expect(text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
      expect(text).not.toMatch(/\b(undefined|null|NaN)\b/);
      expect(text).toMatch(/^[A-Z]/);
      expect(text).toMatch(/[.…]$/);
      expect(text.length).toBeLessThan(160);
    }
  });

  it('names the provider and model in the billing message', () => {
    expect(renderUserMessage('AGT-PROVIDER-BILLING', { provider: 'anthropic', model: 'claude-sonnet-4-5' })).toBe(
      'Anthropic could not run claude-sonnet-4-5 because the account is out of credits or over its spending limit.',
    );
  });

  it('falls back to readable words, capitalised at the start of a sentence', () => {
    expect(renderUserMessage('AGT-PROVIDER-BILLING', {})).toBe(
      'The AI provider could not run the selected model because the account is out of credits or over its spending limit.',
    );
    expect(renderUserMessage('AGT-PROVIDER-MODEL-NOT-FOUND', { provider: 'openai' })).toBe(
      'OpenAI does not offer the selected model, or it is no longer available.',
    );
    expect(renderUserMessage('AGT-PROVIDER-MODEL-NOT-FOUND', { model: 'gpt-9' })).toBe(
      'The AI provider does not offer gpt-9, or it is no longer available.',
    );
  });

  it('shows unknown provider names as sent, and never re-expands placeholders inside values', () => {
    expect(renderUserMessage('AGT-PROVIDER-OVERLOADED', { provider: 'acme-llm' })).toBe(
      'acme-llm is busy right now. Please try again in a moment.',
    );
    const text = renderUserMessage('AGT-PROVIDER-BILLING', { provider: '{model}', model: '{provider}' });
    expect(text).not.toMatch(/[{}]/);
  });

  it('cuts absurdly long values', () => {
    const text = renderUserMessage('AGT-PROVIDER-CONTEXT-OVERFLOW', { model: 'm'.repeat(500) });
    expect(text.length).toBeLessThan(200);
  });

  it('renders the neutral unknown message for a code it does not know: it never blames the provider', () => {
    expect(renderUserMessage('AGT-NOPE', { provider: 'openai' })).toBe('Something went wrong while the agent was working.');
  });

  it('names no AI provider in the neutral unknown code’s words', () => {
    const entry = getCatalogEntry(UNKNOWN_CODE)!;
    for (const field of ['title', 'userMessage', 'supportNote'] as const) expect(entry[field]).not.toMatch(/provider|AI service|\{/i);
  });
});

describe('retry words agree with the retryable flag (issue 14)', () => {
  /** "Retrying will not help", "retrying it will not help", "retrying the same task will not help", … */
  const NO_HELP = /\bretrying(?: [\w ]{1,20}?)? will not (?:help|bring)\b/i;
  /** An invitation to try again, once the "will not help" phrases are taken out. */
  const INVITE = /\b(?:try(?:ing)? (?:again|once more)|one more try|retry|sending (?:it|the message) again|send (?:it|the message) again|sending again|reloading the page)\b/i;
  /** A claim that a retry happened or will happen by itself: only a producer's recorded retries can say that. */
  const CLAIM = /\bretried\b|\bwill be retried\b|\bwe will try again\b|\bautomatically\b|\bwe tried again\b/i;
  const words = (entry: (typeof CATALOG)[number]) => [entry.userMessage, entry.supportNote];

  it.each(CATALOG.map((entry) => [entry.code, entry] as const))('%s: retry wording ⇔ retryable', (_code, entry) => {
    for (const text of words(entry)) expect(text, `${entry.code} claims a retry it cannot know about`).not.toMatch(CLAIM);
    const invites = words(entry).some((text) => INVITE.test(text.replace(new RegExp(NO_HELP.source, 'gi'), '')));
    if (entry.retryable === 'no') {
      expect(invites, `${entry.code} is not retryable but its words invite a retry`).toBe(false);
      expect(entry.supportNote, `${entry.code}: support should read that retrying will not help`).toMatch(NO_HELP);
    } else {
      expect(invites, `${entry.code} is retryable (${entry.retryable}) but its support note never says to try again`).toBe(true);
      for (const text of words(entry)) expect(text, `${entry.code} is retryable but says retrying will not help`).not.toMatch(NO_HELP);
    }
  });

  it('gives the codes the collector records on its own what the user actually saw', () => {
    expect(getCatalogEntry(STUCK_CODE)!.userSaw).toMatch(/spinner|Working/);
    expect(getCatalogEntry(NOT_SURFACED_CODE)!.userSaw).toMatch(/never shown/);
    expect(getCatalogEntry(STUCK_CODE)!.userMessage).not.toMatch(/try again/i);
  });
});
