/**
 * Turns a thrown value into a catalog code, span attributes and the friendly client payload.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { ATTR } from '@faultline/schema';
import type { Category, ClassifierInput, Retryable, SessionState, TimeoutKind } from '@faultline/schema';
import { catalogEntry, classifierInputFrom, classifyInput, isKnownCode, scrub, wordsFor } from './catalog.ts';

/** What the runtime knows beyond the error itself; every field is optional. */
export interface FailContext {
  /** An explicit catalog code; wins over classification when it is a known code. */
  code?: string;
  /** The state to move the session to (default `error`, or `stopped` if it already stopped). */
  state?: SessionState;
  timeoutKind?: TimeoutKind | string;
  /** Whether the runtime itself asked the sandbox/process to stop (disambiguates exit 137). */
  terminationRequested?: boolean;
  /** What the runtime was doing, e.g. `sandbox_create`, `turn_start`, `tool`. */
  operation?: string;
  provider?: string;
  model?: string;
}

/** What a client (UI, orchestrator) may show: the catalog's words, never a stack trace. */
export interface ClientError {
  code: string;
  title: string;
  message: string;
  /** yes: retry with backoff; once: one retry then give up; no: don't; user: let the user decide. */
  retryable: Retryable;
  sessionId: string | null;
  traceId: string | null;
}

export interface DescribedError {
  code: string;
  rule: string;
  title: string;
  userMessage: string;
  category: Category;
  retryable: Retryable;
  exceptionType: string;
  /** The technical message, scrubbed of secrets and truncated. */
  technicalMessage: string;
  stacktrace: string | undefined;
  /** error.* and classifier-input attributes for the span that carries the error. */
  attributes: Attributes;
}

const MAX_MESSAGE = 4_096;
const MAX_STACK = 16_384;
const MAX_STDERR_TAIL = 4_096;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated]`;
}

function prop(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function firstString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value.length > 0) return value;
  return undefined;
}

function safeStringify(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

function exceptionTypeOf(error: unknown, input: ClassifierInput): string {
  if (input.exceptionType) return input.exceptionType;
  if (error instanceof Error) {
    if (error.name && error.name !== 'Error') return error.name;
    return error.constructor?.name || 'Error';
  }
  return error === null ? 'null' : typeof error;
}

/**
 * The technical message, with the `cause` chain appended: a wrapper such as Temporal's
 * ActivityFailure ("Activity task failed") says nothing without its cause ("ValueError: test error").
 */
function messageOf(error: unknown, input: ClassifierInput): string {
  if (!(error instanceof Error)) return input.message ?? safeStringify(error);
  const parts = [error.message];
  let cause: unknown = prop(error, 'cause');
  for (let depth = 0; depth < 5 && cause !== undefined && cause !== null; depth++) {
    const name = typeof prop(cause, 'name') === 'string' ? (prop(cause, 'name') as string) : '';
    const text = cause instanceof Error || typeof prop(cause, 'message') === 'string' ? String(prop(cause, 'message')) : safeStringify(cause);
    if (text && !parts.some((p) => p.includes(text))) parts.push(name && name !== 'Error' ? `${name}: ${text}` : text);
    cause = prop(cause, 'cause');
  }
  return parts.filter(Boolean).join(' ← caused by ');
}

/** Provider request ids (Anthropic `request_id`/`requestID`, OpenAI `request_id`), for support tickets. */
function requestIdOf(error: unknown): string | undefined {
  const headers = prop(error, 'headers');
  let fromHeaders: unknown;
  if (headers && typeof (headers as { get?: unknown }).get === 'function') {
    try {
      fromHeaders = (headers as { get(name: string): unknown }).get('request-id');
    } catch {
      fromHeaders = undefined;
    }
  } else {
    fromHeaders = prop(headers, 'request-id') ?? prop(headers, 'x-request-id');
  }
  return firstString(prop(error, 'request_id'), prop(error, 'requestID'), prop(error, 'requestId'), fromHeaders);
}

/** Temporal keeps the last heartbeat details on the TimeoutFailure, usually the ActivityFailure's cause. */
function lastHeartbeatDetailsOf(error: unknown): unknown {
  return prop(error, 'lastHeartbeatDetails') ?? prop(prop(error, 'cause'), 'lastHeartbeatDetails');
}

function definedOnly<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined && v !== null) (out as Record<string, unknown>)[key] = v;
  return out;
}

/**
 * Classifies `error` the way the collector would, preferring what the runtime knows: an explicit
 * code, then a Faultline timeout's own code, then the classifier's precedence. The error is read
 * once here; `classify` gets the fields, not the error, so it does not read it again.
 */
export function describeError(
  error: unknown,
  context: FailContext = {},
  extra: { isTool?: boolean; provider?: string; model?: string } = {},
): DescribedError {
  const fromError = classifierInputFrom(error);
  const taggedCode = prop(error, 'faultlineCode');
  const taggedKind = prop(error, 'timeoutKind');
  const input: ClassifierInput = {
    ...fromError,
    ...definedOnly({
      code: context.code ?? (isKnownCode(taggedCode) ? taggedCode : undefined),
      timeoutKind: context.timeoutKind ?? (typeof taggedKind === 'string' ? taggedKind : undefined),
      terminationRequested: context.terminationRequested,
      operation: context.operation,
      isTool: extra.isTool,
    }),
  };
  const { code, rule, signal } = classifyInput(input);
  const provider = context.provider ?? extra.provider;
  const model = context.model ?? extra.model;
  const words = wordsFor(code, { provider, model });

  const exceptionType = exceptionTypeOf(error, input);
  const technicalMessage = truncate(scrub(messageOf(error, input)), MAX_MESSAGE);
  const rawStack = error instanceof Error ? error.stack : undefined;
  const stacktrace = rawStack ? truncate(scrub(rawStack), MAX_STACK) : undefined;
  const heartbeatDetails = lastHeartbeatDetailsOf(error);

  const attributes: Record<string, AttributeValue | undefined> = {
    [ATTR.errorType]: code,
    [ATTR.errorCategory]: words.category,
    [ATTR.errorRetryable]: words.retryable,
    [ATTR.errorUserMessage]: words.message,
    [ATTR.classifierRule]: rule,
    [ATTR.classifierSignal]: signal ? truncate(scrub(signal), MAX_MESSAGE) : undefined,
    [ATTR.httpStatus]: input.httpStatus ?? undefined,
    [ATTR.upstreamType]: input.upstreamType ?? undefined,
    [ATTR.upstreamCode]: input.upstreamCode ?? undefined,
    [ATTR.upstreamRequestId]: requestIdOf(error),
    [ATTR.errno]: input.errno ?? undefined,
    [ATTR.temporalTimeoutType]: input.temporalTimeoutType ?? undefined,
    'faultline.temporal.last_heartbeat_details':
      heartbeatDetails === undefined ? undefined : truncate(scrub(safeStringify(heartbeatDetails)), MAX_MESSAGE),
    [ATTR.failoverReason]: input.failoverReason ?? undefined,
    [ATTR.timeoutKind]: input.timeoutKind ?? catalogEntry(code)?.timeoutKind,
    [ATTR.cliExitCode]: input.cliExitCode ?? undefined,
    [ATTR.processSignal]: input.cliSignal ?? undefined,
    [ATTR.cliStderrTail]: input.stderrTail ? truncate(scrub(input.stderrTail), MAX_STDERR_TAIL) : undefined,
    [ATTR.sandboxErrorClass]: input.sandboxErrorClass ?? undefined,
    [ATTR.sandboxExitCode]: input.sandboxExitCode ?? undefined,
    [ATTR.terminationRequested]: input.terminationRequested ?? undefined,
    [ATTR.operation]: input.operation ?? undefined,
    [ATTR.genAiProvider]: provider,
    [ATTR.genAiModel]: model,
  };
  return {
    code,
    rule,
    title: words.title,
    userMessage: words.message,
    category: words.category,
    retryable: words.retryable,
    exceptionType,
    technicalMessage,
    stacktrace,
    attributes: definedOnly(attributes) as Attributes,
  };
}

export function clientErrorFrom(
  described: Pick<DescribedError, 'code' | 'title' | 'userMessage' | 'retryable'>,
  ids: { sessionId?: string | null; traceId?: string | null },
): ClientError {
  return {
    code: described.code,
    title: described.title,
    message: described.userMessage,
    retryable: described.retryable,
    sessionId: ids.sessionId ?? null,
    traceId: ids.traceId ?? null,
  };
}
