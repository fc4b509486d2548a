/**
 * From a decoded span to what we store: session id, provider, model and agent (through the
 * contract's alias table), span type, and for spans in ERROR a catalog code — the SDK's own when
 * it sent one, else the schema classifier over what the span (or the log record it was made from)
 * carries — with the friendly message, a fingerprint, secrets scrubbed and prompt text dropped
 * unless the operator keeps it.
 */
import {
  ATTR,
  LOG_ERROR_EVENTS,
  PROMPT_BODY_EVENTS,
  PROMPT_NOT_STORED,
  SPAN,
  classify,
  fingerprint,
  classifierInputFromAttributes,
  spanKindName,
  isCatalogCode,
  isPromptAttribute,
  isSecretKey,
  isSessionState,
  REDACTED,
  renderUserMessage,
  aliasFactsOf,
  resolveAliases,
  scrubAttributes,
  scrubIdentifier,
  scrubSecrets,
  truncateText,
  type AliasFacts,
  type CatalogEntry,
  type ClassifierInput,
  type SessionState,
} from '@faultline/schema';
import { BUILTIN_CODES, type OperatorRules } from '@faultline/schema/operator-rules';
import type { Attributes, AttrValue, DecodedSpan } from '../otlp/types.ts';

/** `log`: made from an OTLP log record (ingest/logs.ts). */
export type SpanType = 'status' | 'heartbeat' | 'turn' | 'tool' | 'error' | 'span' | 'log';

export interface EnrichedError {
  id: string;
  code: string;
  entry: CatalogEntry;
  message: string;
  technicalMessage: string | null;
  exceptionType: string | null;
  stacktrace: string | null;
  fingerprint: string;
  timeoutKind: string | null;
  upstreamStatus: number | null;
  upstreamType: string | null;
  rule: string;
  /** The classifier rule that decided the code, and the signal it used: stored so an operator sees why. */
  ruleSignal: string | null;
}

export interface EnrichedSpan {
  span: DecodedSpan;
  /** The span's name, scrubbed, as stored (`span.name` is what arrived). */
  name: string;
  sessionId: string | null;
  service: string;
  spanType: SpanType;
  startUs: number;
  endUs: number;
  /** Scrubbed attributes and events, as stored. */
  attributes: Attributes;
  events: { name: string; timeUnixNano: string; attributes: Attributes }[];
  statusMessage: string | null;
  /** Status spans: the state they announce (only valid states). */
  state: SessionState | null;
  stateMessage: string | null;
  stuckAfterMs: number | null;
  agent: string | null;
  provider: string | null;
  model: string | null;
  outputText: string | null;
  heartbeat: Record<string, AttrValue> | null;
  /** Scrubbed resource attributes, as stored. */
  resource: Attributes;
  error: EnrichedError | null;
  /** The error escaped from a child span that already recorded it: keep the code, count no new occurrence. */
  errorPropagated: boolean;
}

const str = (v: AttrValue | undefined): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
const num = (v: AttrValue | undefined): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const bool = (v: AttrValue | undefined): boolean | null =>
  typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null;

function spanTypeOf(span: DecodedSpan): SpanType {
  if (span.log) return 'log';
  const name = span.name;
  if (name === SPAN.status) return 'status';
  if (name === SPAN.heartbeat) return 'heartbeat';
  if (name === SPAN.error) return 'error';
  const op = span.attributes[ATTR.genAiOperation];
  if (name.startsWith(SPAN.toolPrefix) || op === 'execute_tool') return 'tool';
  if (name.startsWith(SPAN.turnPrefix) || op === 'invoke_agent') return 'turn';
  return 'span';
}

const nsToUs = (ns: bigint): number => Number(ns / 1000n);

/**
 * The sane window for span times, relative to arrival. A clock ahead by more than a minute would
 * keep a span first in every newest-first list and inside every "last hour" forever; a time before
 * 2000 is an unset clock (0 is 1970) that retention would delete within the hour. Either becomes
 * the arrival time (the duration kept when it is sane), and the time as sent stays in an attribute.
 */
const MAX_AHEAD_US = 60_000_000;
const EARLIEST_US = Date.UTC(2000, 0, 1) * 1000;

export function clampSpanTimes(startNs: bigint, endNs: bigint, nowUs: number): { startUs: number; endUs: number; clamped: boolean } {
  let startUs = nsToUs(startNs);
  let endUs = nsToUs(endNs);
  const sane = (us: number) => us >= EARLIEST_US && us <= nowUs + MAX_AHEAD_US;
  const saneStart = sane(startUs);
  const saneEnd = sane(endUs);
  if (saneStart && saneEnd) return { startUs, endUs, clamped: false };
  if (!saneStart) {
    const duration = endUs >= startUs ? endUs - startUs : 0;
    startUs = nowUs;
    endUs = nowUs + duration;
  }
  if (!sane(endUs)) endUs = Math.max(startUs, nowUs);
  return { startUs, endUs, clamped: true };
}

/**
 * Values that land in indexed or integer columns are bounded here: a btree entry over ~2.7 kB or
 * an int4 overflow would make the database refuse the whole batch. Cuts never split an emoji.
 */
const clip = (v: string | null | undefined, max: number): string | null => (v ? truncateText(v, max) : null);
const INT4_MAX = 2_147_483_647;
const httpStatusOrNull = (v: number | null | undefined): number | null =>
  v !== null && v !== undefined && Number.isInteger(v) && v >= 100 && v <= 599 ? v : null;

/**
 * Secret scrubbing with a memo for one request. Scrubbing runs a dozen regexes over every string
 * and was most of the enrichment cost; within a request the same values repeat on every span
 * (session id, agent, model, tenant tags, an exception message on the span and in its event), so
 * each distinct string is scrubbed once. The memo lives as long as the request's spans, so it is
 * bounded by the body size. Same result as scrubAttributes/scrubSecrets/scrubIdentifier.
 */
export class Scrubber {
  private readonly texts = new Map<string, string>();
  private readonly identifiers = new Map<string, string>();
  private readonly secretKeys = new Map<string, boolean>();
  private readonly promptKeys = new Map<string, boolean>();
  private readonly shared = new WeakMap<Attributes, Attributes>();
  private readonly resources = new WeakMap<Attributes, AliasFacts>();

  /** `keepPrompts`: FAULTLINE_STORE_PROMPTS; otherwise prompt attributes are replaced before scrubbing. */
  constructor(readonly keepPrompts = false) {}

  private isPrompt(key: string): boolean {
    if (this.keepPrompts) return false;
    let prompt = this.promptKeys.get(key);
    if (prompt === undefined) {
      prompt = isPromptAttribute(key);
      this.promptKeys.set(key, prompt);
    }
    return prompt;
  }

  /** For objects every span of a resource shares (the resource's attributes): scrubbed once. */
  sharedAttributes(attrs: Attributes): Attributes {
    let out = this.shared.get(attrs);
    if (out === undefined) {
      out = this.attributes(attrs);
      this.shared.set(attrs, out);
    }
    return out;
  }

  /** What a resource says about session, provider, model and agent: once per resource object. */
  resourceFacts(resource: Attributes): AliasFacts {
    let facts = this.resources.get(resource);
    if (facts === undefined) {
      facts = aliasFactsOf(resource);
      this.resources.set(resource, facts);
    }
    return facts;
  }

  text(s: string): string {
    let out = this.texts.get(s);
    if (out === undefined) {
      out = scrubSecrets(s);
      this.texts.set(s, out);
    }
    return out;
  }

  /** Ids and keys: a secret in them becomes a tag, so distinct ones stay distinct. */
  identifier(s: string): string {
    let out = this.identifiers.get(s);
    if (out === undefined) {
      out = scrubIdentifier(s);
      this.identifiers.set(s, out);
    }
    return out;
  }

  textOrNull(s: string | null | undefined): string | null {
    return s === null || s === undefined ? null : this.text(s);
  }

  attributes(attrs: Attributes): Attributes {
    const out: Attributes = {};
    for (const rawKey in attrs) {
      const key = this.identifier(rawKey);
      const value = attrs[rawKey];
      let secret = this.secretKeys.get(rawKey);
      if (secret === undefined) {
        secret = isSecretKey(rawKey);
        this.secretKeys.set(rawKey, secret);
      }
      if (secret && value !== null && value !== undefined && value !== '') out[key] = REDACTED;
      else if (value !== null && value !== undefined && value !== '' && this.isPrompt(rawKey)) out[key] = PROMPT_NOT_STORED;
      else if (typeof value === 'string') out[key] = this.text(value);
      else if (value !== null && typeof value === 'object') out[key] = Object.values(scrubAttributes({ v: value }))[0] as AttrValue;
      else out[key] = value;
    }
    return out;
  }
}

/** Span events that record an exception: OTel's `exception`, and the GenAI conventions' own. */
const EXCEPTION_EVENTS = new Set(['exception', 'gen_ai.client.operation.exception']);
const lastException = (span: DecodedSpan) => [...span.events].reverse().find((e) => EXCEPTION_EVENTS.has(e.name));

/** Classifier input from what an OTLP span carries (DESIGN §3): the schema's one reading of span attributes. */
export function classifierInputFromSpan(span: DecodedSpan, spanType: SpanType): ClassifierInput {
  return classifierInputFromAttributes({
    name: span.name,
    kind: spanKindName(span.kind),
    scope: span.scopeName,
    statusMessage: span.statusMessage,
    attributes: span.attributes,
    exception: lastException(span)?.attributes ?? null,
    resource: span.resource,
    isTool: spanType === 'tool',
  });
}

/**
 * Who decides the code: the operator's rules first, then a catalog code the SDK already chose
 * (with the rule it reported), then the built-in classifier.
 */
function decide(span: DecodedSpan, input: ClassifierInput, rules: OperatorRules | null): { code: string; rule: string; signal: string | null } {
  const operator = rules?.classify(input) ?? null;
  if (operator !== null) return { code: operator.code, rule: operator.rule, signal: operator.signal ?? null };
  if (input.code && isCatalogCode(input.code)) {
    const sdkRule = str(span.attributes[ATTR.classifierRule]);
    const sdkSignal = str(span.attributes[ATTR.classifierSignal]);
    return { code: input.code, rule: clip(sdkRule, 200) ?? 'explicit-code', signal: clip(sdkSignal, 1000) ?? `error.type=${JSON.stringify(input.code)}` };
  }
  const decided = classify(input);
  return { code: decided.code, rule: decided.rule, signal: decided.signal ?? null };
}

/** The first of `keys` the attributes carry (not null, not empty). */
function firstPresent(a: Attributes, keys: readonly string[] | undefined): AttrValue | undefined {
  if (keys) for (const k of keys) if (a[k] !== undefined && a[k] !== null && a[k] !== '') return a[k];
  return undefined;
}

/**
 * A provider's error body inside an error text: OpenAI/Codex `{"error":{"code","message"}}` or a
 * Responses API `response.failed` event `{"response":{"error":{…}}}`, Anthropic
 * `{"type":"error","error":{"type","message"}}`, Google `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}`,
 * possibly after a prefix such as "429 " or "got status: 429 Too Many Requests. ".
 */
export function providerErrorInText(text: string | null): { code: string | null; type: string | null; message: string | null } | null {
  if (text === null) return null;
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text.slice(start, end + 1));
  } catch {
    return null;
  }
  const obj = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
  const word = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  const root = obj(doc);
  const error = obj(root?.error) ?? obj(obj(root?.response)?.error);
  if (!error) return null;
  const type = word(error.type);
  return { code: word(error.code), type: (type !== 'error' ? type : null) ?? word(error.status), message: word(error.message) };
}

/** Where the record's event keeps its error facts, when schema/log-events.ts knows the event. */
function logShape(span: DecodedSpan) {
  const event = span.log?.eventName ?? null;
  return event !== null && Object.hasOwn(LOG_ERROR_EVENTS, event) ? LOG_ERROR_EVENTS[event] : undefined;
}

/**
 * Classifier input from a log record made into a span: where its event keeps status, error text,
 * error type and errno (schema/log-events.ts), else the semantic conventions' `exception.*`,
 * `error.type`, `http.response.status_code`, else its body.
 */
export function classifierInputFromLog(span: DecodedSpan, provider: string | null): ClassifierInput {
  const a = span.attributes;
  const shape = logShape(span);
  // A provider-call event (an API error of a CLI) reads like a client span of that provider.
  const base = classifierInputFromAttributes({
    name: span.log?.eventName ?? span.name,
    kind: shape?.providerCall ? 'client' : null,
    scope: span.scopeName,
    statusMessage: span.statusMessage,
    attributes: a,
    resource: span.resource,
  });
  const text = str(firstPresent(a, shape?.message)) ?? str(a[ATTR.exceptionMessage]) ?? str(a['error.message']) ?? span.statusMessage;
  const body = providerErrorInText(text);
  return {
    ...base,
    exceptionType: str(firstPresent(a, shape?.errorType)) ?? base.exceptionType,
    message: body?.message ?? text,
    httpStatus: num(firstPresent(a, shape?.httpStatus)) ?? base.httpStatus,
    upstreamType: body?.type ?? base.upstreamType,
    upstreamCode: body?.code ?? base.upstreamCode,
    errno: str(firstPresent(a, shape?.errno)) ?? base.errno,
    // The CLI's provider comes from the alias table (its service name) when the event does not name one.
    providerName: base.providerName ?? (shape?.providerCall ? provider : null),
  };
}

function enrichError(
  span: DecodedSpan,
  spanType: SpanType,
  provider: string | null,
  model: string | null,
  scrub: Scrubber,
  rules: OperatorRules | null,
): EnrichedError {
  const input = span.log ? classifierInputFromLog(span, provider) : classifierInputFromSpan(span, spanType);
  const explicit = input.code && isCatalogCode(input.code) ? input.code : null;
  const { code, rule, signal } = decide(span, input, rules);
  const entry = (rules?.codes ?? BUILTIN_CODES).get(code)!;
  // A foreign `error.type` (e.g. "java.net.SocketTimeoutException") is still worth keeping as the type.
  const rawType = input.exceptionType ?? (input.code && !explicit ? input.code : null);
  const exceptionType = rawType ? truncateText(scrub.text(rawType), 256) : null;
  // A CLI that retried says how often (Claude Code: 11 once its retries are exhausted); support reads it here.
  const attempt = span.log ? num(firstPresent(span.attributes, logShape(span)?.attempt)) : null;
  const message = input.message && attempt !== null && attempt > 1 ? `${input.message} (attempt ${attempt})` : input.message;
  const technical = message ? truncateText(scrub.text(message), 4000) : null;
  const stack = str(lastException(span)?.attributes[ATTR.exceptionStacktrace] ?? span.attributes[ATTR.exceptionStacktrace]);
  const explicitFingerprint = str(span.attributes[ATTR.errorFingerprint]);
  return {
    id: `${span.traceId}:${span.spanId}`,
    code,
    entry,
    message: renderUserMessage(entry, { provider, model }),
    technicalMessage: technical,
    exceptionType,
    stacktrace: stack ? truncateText(scrub.text(stack), 16_000) : null,
    fingerprint:
      clip(explicitFingerprint === null ? null : scrub.identifier(explicitFingerprint), 128) ?? fingerprint({ code, exceptionType, message: technical ?? '' }),
    timeoutKind: clip(scrub.textOrNull(input.timeoutKind), 64) ?? entry.timeoutKind ?? null,
    upstreamStatus: httpStatusOrNull(input.httpStatus),
    upstreamType: scrub.textOrNull(input.upstreamType),
    rule,
    // Signals quote the message, so they are scrubbed like it.
    ruleSignal: signal === null ? null : scrub.text(signal),
  };
}

/** Per-deployment choices (FAULTLINE_STORE_PROMPTS, the operator's FAULTLINE_RULES) and the request's arrival time. */
export interface EnrichOptions {
  storePrompts?: boolean;
  rules?: OperatorRules | null;
  /** When the request arrived: the reference for clamping span times (clampSpanTimes). */
  nowMs?: number;
}

/** Enrich the spans of one request, sharing one scrub memo. */
export function enrichSpans(spans: DecodedSpan[], options: EnrichOptions = {}): EnrichedSpan[] {
  const scrub = new Scrubber(options.storePrompts ?? false);
  const nowMs = options.nowMs ?? Date.now();
  const enriched = spans.map((span) => enrichSpan(span, scrub, options.rules ?? null, nowMs));
  markPropagatedErrors(enriched);
  return enriched;
}

/** How far up a span's ancestors an error is followed (a cycle of bad parent ids must end). */
const MAX_ANCESTORS = 64;

/**
 * One failure, one occurrence, for producers that record an error on every span it passes
 * through: the Vercel AI SDK records a failed call on `ai.generateText.doGenerate` and again on
 * `ai.generateText`, OpenInference on every LangChain run it unwinds. An ERROR span whose
 * descendant in the same request already recorded the same exception, or which says nothing of
 * its own (status ERROR alone), keeps its code but counts no new occurrence — what the SDK's
 * `faultline.error.propagated` says explicitly. (A parent exported in a later request than its
 * child is not matched; the SDK and the batch span processors export them together.)
 */
function markPropagatedErrors(spans: EnrichedSpan[]): void {
  let errors = 0;
  for (const s of spans) if (s.error && !s.errorPropagated) errors++;
  if (errors < 2) return;
  const byId = new Map<string, EnrichedSpan>();
  for (const s of spans) byId.set(`${s.span.traceId}:${s.span.spanId}`, s);
  for (const child of spans) {
    const err = child.error;
    if (!err || child.errorPropagated) continue;
    let parentId = child.span.parentSpanId;
    for (let depth = 0; parentId !== null && depth < MAX_ANCESTORS; depth++) {
      const parent = byId.get(`${child.span.traceId}:${parentId}`);
      if (!parent) break;
      const pe = parent.error;
      if (pe && parent !== child) {
        const same = pe.exceptionType === err.exceptionType && pe.technicalMessage === err.technicalMessage;
        const saysNothing = pe.exceptionType === null && pe.technicalMessage === null && pe.upstreamStatus === null;
        if (same || saysNothing) parent.errorPropagated = true;
      }
      parentId = parent.span.parentSpanId;
    }
  }
}

/** A log event whose body is the prompt itself (GenAI `gen_ai.user.message`). */
function promptBody(span: DecodedSpan, scrub: Scrubber): boolean {
  const event = span.log?.eventName;
  return !scrub.keepPrompts && event !== undefined && event !== null && PROMPT_BODY_EVENTS.has(event);
}

/**
 * enrichSpans for the ingest route: it yields to the event loop every `sliceMs`, so one large
 * request (64 MiB of adversarial strings scrub in seconds, linear or not) cannot stall every
 * other client, the API and /healthz. One span is the unit; a span's cost is bounded by its size.
 */
export async function enrichSpansYielding(spans: DecodedSpan[], options: EnrichOptions = {}, sliceMs = 10): Promise<EnrichedSpan[]> {
  const scrub = new Scrubber(options.storePrompts ?? false);
  const nowMs = options.nowMs ?? Date.now();
  const out: EnrichedSpan[] = [];
  let sliceStart = performance.now();
  for (const span of spans) {
    out.push(enrichSpan(span, scrub, options.rules ?? null, nowMs));
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  markPropagatedErrors(out);
  return out;
}

export function enrichSpan(span: DecodedSpan, scrub: Scrubber = new Scrubber(), rules: OperatorRules | null = null, nowMs = Date.now()): EnrichedSpan {
  const a = span.attributes;
  const times = clampSpanTimes(span.startTimeUnixNano, span.endTimeUnixNano, nowMs * 1000);
  const spanType = spanTypeOf(span);
  const facts = resolveAliases(aliasFactsOf(a), scrub.resourceFacts(span.resource), span.resource[ATTR.serviceName]);
  // Every field that is stored or served is scrubbed, names and ids included.
  const provider = scrub.textOrNull(facts.provider);
  const model = scrub.textOrNull(facts.model);
  const isError = span.statusCode === 2 || spanType === 'error';
  const stateValue = spanType === 'status' ? a[ATTR.sessionState] : undefined;
  const stuckAfter = num(a[ATTR.sessionStuckAfterMs]);
  const scrubbed = scrub.attributes(a);
  if (times.clamped) {
    scrubbed[ATTR.originalStartTime] = span.startTimeUnixNano.toString();
    scrubbed[ATTR.originalEndTime] = span.endTimeUnixNano.toString();
  }
  // From the scrubbed attributes: the session row keeps the latest heartbeat details.
  let heartbeat: Record<string, AttrValue> | null = null;
  if (spanType === 'heartbeat') {
    heartbeat = {};
    for (const [k, v] of Object.entries(scrubbed)) {
      if (k.startsWith(ATTR.heartbeatPrefix)) heartbeat[k.slice(ATTR.heartbeatPrefix.length)] = v;
    }
  }
  return {
    span,
    name: scrub.text(span.name),
    sessionId: facts.sessionId === null ? null : truncateText(scrub.identifier(facts.sessionId), 256),
    service: clip(scrub.textOrNull(str(span.resource[ATTR.serviceName])), 256) ?? 'unknown_service',
    spanType,
    startUs: times.startUs,
    endUs: times.endUs,
    attributes: scrubbed,
    events: span.events.map((e) => ({
      name: scrub.text(e.name),
      timeUnixNano: e.timeUnixNano.toString(),
      attributes: scrub.attributes(e.attributes),
    })),
    statusMessage: !span.statusMessage ? null : promptBody(span, scrub) ? PROMPT_NOT_STORED : scrub.text(span.statusMessage),
    state: isSessionState(stateValue) ? stateValue : null,
    stateMessage: spanType === 'status' ? str(scrubbed[ATTR.sessionStatusMessage]) : null,
    // An int4 column: a larger threshold means "practically never", kept as the largest one.
    stuckAfterMs: stuckAfter !== null && stuckAfter > 0 ? Math.min(Math.round(stuckAfter), INT4_MAX) : null,
    agent: scrub.textOrNull(facts.agent),
    provider,
    model,
    outputText: str(scrubbed[ATTR.outputText]),
    heartbeat,
    resource: scrub.sharedAttributes(span.resource),
    error: isError ? enrichError(span, spanType, provider, model, scrub, rules) : null,
    errorPropagated: isError && bool(a[ATTR.errorPropagated]) === true,
  };
}
