/**
 * From a decoded span to what we store: session id (or its aliases), span type, and for spans in
 * ERROR a catalog code — the SDK's own when it sent one, else the schema classifier over what the
 * span carries — with the friendly message, a fingerprint, and secrets scrubbed.
 */
import {
  ATTR,
  SESSION_ID_ALIASES,
  SPAN,
  classify,
  fingerprint,
  getCatalogEntry,
  isCatalogCode,
  isSecretKey,
  isSessionState,
  REDACTED,
  renderUserMessage,
  scrubAttributes,
  scrubIdentifier,
  scrubSecrets,
  truncateText,
  type CatalogEntry,
  type ClassifierInput,
  type SessionState,
} from '@faultline/schema';
import type { Attributes, AttrValue, DecodedSpan } from '../otlp/types.ts';

export type SpanType = 'status' | 'heartbeat' | 'turn' | 'tool' | 'error' | 'span';

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

function sessionIdOf(attrs: Attributes, resource: Attributes, scrub: Scrubber): string | null {
  for (const key of SESSION_ID_ALIASES) {
    const v = attrs[key] ?? resource[key];
    if (v !== undefined && v !== null && v !== '') return truncateText(scrub.identifier(String(v)), 256);
  }
  return null;
}

function spanTypeOf(span: DecodedSpan): SpanType {
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
  private readonly shared = new WeakMap<Attributes, Attributes>();

  /** For objects every span of a resource shares (the resource's attributes): scrubbed once. */
  sharedAttributes(attrs: Attributes): Attributes {
    let out = this.shared.get(attrs);
    if (out === undefined) {
      out = this.attributes(attrs);
      this.shared.set(attrs, out);
    }
    return out;
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
      else if (typeof value === 'string') out[key] = this.text(value);
      else if (value !== null && typeof value === 'object') out[key] = Object.values(scrubAttributes({ v: value }))[0] as AttrValue;
      else out[key] = value;
    }
    return out;
  }
}

/** Classifier input from what an OTLP span carries (DESIGN §3). */
export function classifierInputFromSpan(span: DecodedSpan, spanType: SpanType): ClassifierInput {
  const a = span.attributes;
  const exception = [...span.events].reverse().find((e) => e.name === 'exception');
  const ex = exception?.attributes ?? {};
  return {
    code: str(a[ATTR.errorType]),
    exceptionType: str(ex[ATTR.exceptionType]) ?? str(a[ATTR.exceptionType]),
    message: str(ex[ATTR.exceptionMessage]) ?? str(a[ATTR.exceptionMessage]) ?? span.statusMessage,
    httpStatus: num(a[ATTR.httpStatus]) ?? num(a['http.status_code']),
    upstreamType: str(a[ATTR.upstreamType]) ?? str(a['error.upstream_type']),
    upstreamCode: str(a[ATTR.upstreamCode]) ?? str(a['error.upstream_code']),
    errno: str(a[ATTR.errno]),
    temporalTimeoutType: str(a[ATTR.temporalTimeoutType]),
    failoverReason: str(a[ATTR.failoverReason]),
    timeoutKind: str(a[ATTR.timeoutKind]),
    cliExitCode: num(a[ATTR.cliExitCode]),
    cliSignal: str(a[ATTR.processSignal]),
    stderrTail: str(a[ATTR.cliStderrTail]),
    sandboxErrorClass: str(a[ATTR.sandboxErrorClass]),
    sandboxExitCode: num(a[ATTR.sandboxExitCode]),
    terminationRequested: bool(a[ATTR.terminationRequested]),
    operation: str(a[ATTR.operation]),
    isTool: spanType === 'tool',
  };
}

function enrichError(span: DecodedSpan, spanType: SpanType, provider: string | null, model: string | null, scrub: Scrubber): EnrichedError {
  const input = classifierInputFromSpan(span, spanType);
  const explicit = input.code && isCatalogCode(input.code) ? input.code : null;
  const { code, rule } = explicit ? { code: explicit, rule: 'explicit-code' } : classify({ ...input, code: null });
  const entry = getCatalogEntry(code)!;
  // A foreign `error.type` (e.g. "java.net.SocketTimeoutException") is still worth keeping as the type.
  const rawType = input.exceptionType ?? (input.code && !explicit ? input.code : null);
  const exceptionType = rawType ? truncateText(scrub.text(rawType), 256) : null;
  const technical = input.message ? truncateText(scrub.text(input.message), 4000) : null;
  const exception = [...span.events].reverse().find((e) => e.name === 'exception');
  const stack = str(exception?.attributes[ATTR.exceptionStacktrace]);
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
  };
}

/** Enrich the spans of one request, sharing one scrub memo. */
export function enrichSpans(spans: DecodedSpan[]): EnrichedSpan[] {
  const scrub = new Scrubber();
  return spans.map((span) => enrichSpan(span, scrub));
}

/**
 * enrichSpans for the ingest route: it yields to the event loop every `sliceMs`, so one large
 * request (64 MiB of adversarial strings scrub in seconds, linear or not) cannot stall every
 * other client, the API and /healthz. One span is the unit; a span's cost is bounded by its size.
 */
export async function enrichSpansYielding(spans: DecodedSpan[], sliceMs = 10): Promise<EnrichedSpan[]> {
  const scrub = new Scrubber();
  const out: EnrichedSpan[] = [];
  let sliceStart = performance.now();
  for (const span of spans) {
    out.push(enrichSpan(span, scrub));
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return out;
}

export function enrichSpan(span: DecodedSpan, scrub: Scrubber = new Scrubber()): EnrichedSpan {
  const a = span.attributes;
  const spanType = spanTypeOf(span);
  // Every field that is stored or served is scrubbed, names and ids included.
  const provider = scrub.textOrNull(str(a[ATTR.genAiProvider]) ?? str(span.resource[ATTR.genAiProvider]));
  const model = scrub.textOrNull(str(a[ATTR.genAiModel]));
  const isError = span.statusCode === 2 || spanType === 'error';
  const stateValue = spanType === 'status' ? a[ATTR.sessionState] : undefined;
  const stuckAfter = num(a[ATTR.sessionStuckAfterMs]);
  const scrubbed = scrub.attributes(a);
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
    sessionId: sessionIdOf(a, span.resource, scrub),
    service: clip(scrub.textOrNull(str(span.resource[ATTR.serviceName])), 256) ?? 'unknown_service',
    spanType,
    startUs: nsToUs(span.startTimeUnixNano),
    endUs: nsToUs(span.endTimeUnixNano),
    attributes: scrubbed,
    events: span.events.map((e) => ({
      name: scrub.text(e.name),
      timeUnixNano: e.timeUnixNano.toString(),
      attributes: scrub.attributes(e.attributes),
    })),
    statusMessage: span.statusMessage ? scrub.text(span.statusMessage) : null,
    state: isSessionState(stateValue) ? stateValue : null,
    stateMessage: spanType === 'status' ? str(scrubbed[ATTR.sessionStatusMessage]) : null,
    // An int4 column: a larger threshold means "practically never", kept as the largest one.
    stuckAfterMs: stuckAfter !== null && stuckAfter > 0 ? Math.min(Math.round(stuckAfter), INT4_MAX) : null,
    agent: scrub.textOrNull(str(a[ATTR.genAiAgent])),
    provider,
    model,
    outputText: str(scrubbed[ATTR.outputText]),
    heartbeat,
    resource: scrub.sharedAttributes(span.resource),
    error: isError ? enrichError(span, spanType, provider, model, scrub) : null,
    errorPropagated: isError && bool(a[ATTR.errorPropagated]) === true,
  };
}
