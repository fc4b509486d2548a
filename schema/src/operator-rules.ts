/**
 * Operator rules (`FAULTLINE_RULES`): a deployment maps its own errors to codes — built-in ones or
 * its own, with its own words — before the built-in classifier runs. The file's shape is defined
 * here, once; the collector reads the file (JSON or YAML) and reports errors by line.
 *
 * Pure: no node:* imports.
 */
import { z } from 'zod';
import { CATALOG, getCatalogEntry } from './catalog.ts';
import { CATEGORIES, type CatalogEntry } from './catalog-types.ts';
import type { Classification, ClassifierInput } from './classifier-types.ts';
import { normalizeExceptionType } from './exception-type.ts';

/** Operator codes look like catalog codes but may not take Faultline's own `AGT-` prefix. */
export const OPERATOR_CODE_PATTERN = /^[A-Z][A-Z0-9]{0,19}(?:-[A-Z0-9]{1,30}){1,6}$/;
const RULE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Operator regexes run against at most this much text, like the built-in ones. */
const MAX_RULE_TEXT = 8000;

const oneOrMore = z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(100)]);

export const operatorCodeSchema = z
  .object({
    code: z
      .string()
      .regex(OPERATOR_CODE_PATTERN, { error: 'must look like ACME-BILLING-PORTAL-DOWN (capital letters, digits and hyphens)' })
      .refine((code) => !code.startsWith('AGT-'), { error: 'AGT- codes are the built-in catalog’s; give your codes your own prefix' }),
    category: z.enum(CATEGORIES, { error: `must be one of ${CATEGORIES.join(', ')}` }),
    title: z.string().min(1).max(120),
    userMessage: z.string().min(1).max(300),
    supportNote: z.string().min(1).max(1000).optional(),
    operatorHint: z.string().min(1).max(1000).optional(),
    retryable: z.enum(['yes', 'once', 'no', 'user'], { error: 'must be yes, once, no or user' }).default('no'),
    httpStatus: z.number().int().min(100).max(599).nullable().default(null),
  })
  .strict();

export const operatorRuleSchema = z
  .object({
    id: z.string().regex(RULE_ID_PATTERN, { error: 'must be lower-case letters, digits, dots, dashes or underscores (at most 64)' }),
    match: z
      .object({
        /** Equal to `exception.type` as sent, or to its class name without module (`RateLimitError`). */
        exceptionType: oneOrMore.optional(),
        /** A regular expression (JavaScript syntax, case-insensitive) over the message and stderr tail. */
        message: z.string().min(1).max(1000).optional(),
        /** Span attributes that must be present with exactly these values. */
        attributes: z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()])).optional(),
        /** `service.name` of the producer. */
        service: oneOrMore.optional(),
      })
      .strict()
      .refine((m) => Object.values(m).some((v) => v !== undefined), { error: 'needs at least one of exceptionType, message, attributes, service' }),
    code: z.string().min(1),
  })
  .strict();

export const operatorRulesFileSchema = z
  .object({
    codes: z.array(operatorCodeSchema).max(1000).default([]),
    rules: z.array(operatorRuleSchema).min(1, { error: 'needs at least one rule' }).max(1000),
  })
  .strict()
  .superRefine((file, ctx) => {
    const own = new Set<string>();
    file.codes.forEach((entry, i) => {
      if (own.has(entry.code)) ctx.addIssue({ code: 'custom', path: ['codes', i, 'code'], message: `${entry.code} is defined twice` });
      own.add(entry.code);
    });
    const ids = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (ids.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `rule id ${rule.id} is used twice` });
      ids.add(rule.id);
      if (!own.has(rule.code) && getCatalogEntry(rule.code) === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'code'],
          message: `${rule.code} is neither a built-in code (GET /api/codes) nor defined under codes`,
        });
      }
      const source = rule.match.message;
      if (source !== undefined) {
        try {
          new RegExp(source, 'i');
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'match', 'message'], message: `is not a valid regular expression (${(err as Error).message})` });
        }
      }
    });
  });

export type OperatorRulesFile = z.output<typeof operatorRulesFileSchema>;

/** The catalog a deployment uses: the built-in codes plus its operators' own. */
export interface CodeBook {
  readonly entries: readonly CatalogEntry[];
  get(code: string | null | undefined): CatalogEntry | undefined;
}

function codeBook(entries: readonly CatalogEntry[]): CodeBook {
  const byCode = new Map(entries.map((entry) => [entry.code, entry]));
  return { entries, get: (code) => (typeof code === 'string' ? byCode.get(code) : undefined) };
}

export const BUILTIN_CODES: CodeBook = codeBook(CATALOG);

export interface OperatorRules {
  codes: CodeBook;
  /** The first operator rule that matches, or null to let the built-in classifier decide. */
  classify(input: ClassifierInput): Classification | null;
}

interface CompiledRule {
  id: string;
  code: string;
  types: ReadonlySet<string> | null;
  message: RegExp | null;
  attributes: readonly [string, string][] | null;
  services: ReadonlySet<string> | null;
}

const asSet = (value: string | string[] | undefined): ReadonlySet<string> | null =>
  value === undefined ? null : new Set(Array.isArray(value) ? value : [value]);

function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 79)}…` : value);
}

/** One rule against one input: the signals it matched on, or null. */
function matchRule(rule: CompiledRule, input: ClassifierInput): string[] | null {
  const signals: string[] = [];
  if (rule.types !== null) {
    const raw = typeof input.exceptionType === 'string' ? input.exceptionType.trim() : '';
    const name = normalizeExceptionType(raw)?.name ?? '';
    if (!rule.types.has(raw) && !rule.types.has(name)) return null;
    signals.push(`exception.type=${quoted(raw)}`);
  }
  if (rule.message !== null) {
    const text = [input.message, input.stderrTail].filter((t): t is string => typeof t === 'string' && t !== '').join('\n').slice(0, MAX_RULE_TEXT);
    const m = rule.message.exec(text);
    if (m === null) return null;
    signals.push(`message~${quoted(m[0])}`);
  }
  if (rule.attributes !== null) {
    const attrs = input.attributes ?? {};
    for (const [key, want] of rule.attributes) {
      const got = Object.hasOwn(attrs, key) ? attrs[key] : undefined;
      if (got === undefined || got === null || String(got) !== want) return null;
      signals.push(`${key}=${quoted(want)}`);
    }
  }
  if (rule.services !== null) {
    if (typeof input.service !== 'string' || !rule.services.has(input.service)) return null;
    signals.push(`service.name=${quoted(input.service)}`);
  }
  return signals;
}

/** Compiles a validated rules file. The rule a span matched is stored as `operator:<id>`. */
export function compileOperatorRules(file: OperatorRulesFile): OperatorRules {
  const own: CatalogEntry[] = file.codes.map((c) => ({
    code: c.code,
    category: c.category,
    title: c.title,
    userMessage: c.userMessage,
    supportNote: c.supportNote ?? `${c.title}: a code this deployment defined itself; its operators know what to check.`,
    operatorHint: c.operatorHint ?? 'Defined in the operator rules file (FAULTLINE_RULES).',
    retryable: c.retryable,
    httpStatus: c.httpStatus,
    source: 'operator rules file (FAULTLINE_RULES)',
  }));
  const rules: CompiledRule[] = file.rules.map((r) => ({
    id: r.id,
    code: r.code,
    types: asSet(r.match.exceptionType),
    message: r.match.message === undefined ? null : new RegExp(r.match.message, 'i'),
    attributes: r.match.attributes === undefined ? null : Object.entries(r.match.attributes).map(([k, v]) => [k, String(v)] as [string, string]),
    services: asSet(r.match.service),
  }));
  return {
    codes: codeBook([...CATALOG, ...own]),
    classify(input) {
      for (const rule of rules) {
        const signals = matchRule(rule, input);
        if (signals !== null) return { code: rule.code, rule: `operator:${rule.id}`, signal: signals.join(', ') };
      }
      return null;
    },
  };
}
