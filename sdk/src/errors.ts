/**
 * Turns a thrown value into a catalog code, span attributes and the friendly client payload.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR } from '@faultline/schema';
import type { Category, ClassifierInput, Retryable, SessionState, TimeoutKind } from '@faultline/schema';
import { catalogEntry, classifierInputFrom, classifyInput, isKnownCode, scrub, scrubRepeated, scrubStack, wordsFor } from './catalog.ts';

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
  let cause: unknown = prop(error, 'cause');
  if (cause === undefined || cause === null) return error.message;
  const parts = [error.message];
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

/** Sets `key` only when there is a value: the span must not carry empty attributes. */
function put(attributes: Attributes, key: string, value: AttributeValue | null | undefined): void {
  if (value !== undefined && value !== null) attributes[key] = value;
}

export interface DescribeOptions {
  isTool?: boolean;
  provider?: string;
  model?: string;
  /**
   * False when the exporter scrubs the exception message, stack and status message at export time
   * (off the caller's path); then they are only truncated here.
   */
  scrub?: boolean;
  /**
   * Attributes the span also carries (the session's), put first into `attributes`: a span made
   * for the error then needs no second merged copy.
   */
  base?: Attributes;
}

/**
 * Classifies `error` the way the collector would, preferring what the runtime knows: an explicit
 * code, then a Faultline timeout's own code, then the classifier's precedence. The error is read
 * once here; `classify` gets the fields, not the error, so it does not read it again.
 */
export function describeError(error: unknown, context: FailContext = {}, extra: DescribeOptions = {}): DescribedError {
  // A fresh object per call: what the runtime knows is written over what the error says.
  const input = classifierInputFrom(error);
  const taggedCode = prop(error, 'faultlineCode');
  const taggedKind = prop(error, 'timeoutKind');
  const explicitCode = context.code ?? (isKnownCode(taggedCode) ? taggedCode : undefined);
  if (explicitCode !== undefined) input.code = explicitCode;
  const timeoutKind = context.timeoutKind ?? (typeof taggedKind === 'string' ? taggedKind : undefined);
  if (timeoutKind !== undefined) input.timeoutKind = timeoutKind;
  if (context.terminationRequested !== undefined) input.terminationRequested = context.terminationRequested;
  if (context.operation !== undefined) input.operation = context.operation;
  if (extra.isTool !== undefined) input.isTool = extra.isTool;
  const { code, rule, signal } = classifyInput(input);
  const provider = context.provider ?? extra.provider;
  const model = context.model ?? extra.model;
  const words = wordsFor(code, { provider, model });
  const inline = extra.scrub !== false;

  const exceptionType = exceptionTypeOf(error, input);
  const message = messageOf(error, input);
  const cleanMessage = inline ? scrub(message) : message;
  const technicalMessage = truncate(cleanMessage, MAX_MESSAGE);
  const rawStack = error instanceof Error ? error.stack : undefined;
  const stacktrace = rawStack ? truncate(inline ? scrubStack(rawStack, { raw: message, clean: cleanMessage }) : rawStack, MAX_STACK) : undefined;
  const heartbeatDetails = lastHeartbeatDetailsOf(error);

  const attributes: Attributes = extra.base ? Object.assign({}, extra.base) : {};
  attributes[ATTR.errorType] = code;
  attributes[ATTR.errorCategory] = words.category;
  attributes[ATTR.errorRetryable] = words.retryable;
  attributes[ATTR.errorUserMessage] = words.message;
  attributes[ATTR.classifierRule] = rule;
  if (signal) attributes[ATTR.classifierSignal] = truncate(scrubRepeated(signal), MAX_MESSAGE);
  put(attributes, ATTR.httpStatus, input.httpStatus);
  put(attributes, ATTR.upstreamType, input.upstreamType);
  put(attributes, ATTR.upstreamCode, input.upstreamCode);
  put(attributes, ATTR.upstreamRequestId, requestIdOf(error));
  put(attributes, ATTR.errno, input.errno);
  put(attributes, ATTR.temporalTimeoutType, input.temporalTimeoutType);
  if (heartbeatDetails !== undefined) {
    attributes['faultline.temporal.last_heartbeat_details'] = truncate(scrub(safeStringify(heartbeatDetails)), MAX_MESSAGE);
  }
  put(attributes, ATTR.failoverReason, input.failoverReason);
  put(attributes, ATTR.timeoutKind, input.timeoutKind ?? catalogEntry(code)?.timeoutKind);
  put(attributes, ATTR.cliExitCode, input.cliExitCode);
  put(attributes, ATTR.processSignal, input.cliSignal);
  if (input.stderrTail) attributes[ATTR.cliStderrTail] = truncate(scrub(input.stderrTail), MAX_STDERR_TAIL);
  put(attributes, ATTR.sandboxErrorClass, input.sandboxErrorClass);
  put(attributes, ATTR.sandboxExitCode, input.sandboxExitCode);
  put(attributes, ATTR.terminationRequested, input.terminationRequested);
  put(attributes, ATTR.operation, input.operation);
  put(attributes, ATTR.genAiProvider, provider);
  put(attributes, ATTR.genAiModel, model);
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
    attributes,
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

/**
 * Scrubs the free texts an error span carries (exception message and stack, status message) in
 * place, at export time: `fail()` leaves them unscrubbed when the SDK's own exporter does this.
 */
export function scrubForExport(span: ReadableSpan): void {
  const status = span.status.message;
  let raw: string | undefined;
  let clean: string | undefined;
  for (const event of span.events) {
    if (event.name !== 'exception' || !event.attributes) continue;
    const message = event.attributes[ATTR.exceptionMessage];
    const known = typeof message === 'string' ? { raw: message, clean: scrub(message) } : undefined;
    if (known) {
      event.attributes[ATTR.exceptionMessage] = known.clean;
      raw = known.raw;
      clean = known.clean;
    }
    const stack = event.attributes[ATTR.exceptionStacktrace];
    if (typeof stack === 'string') event.attributes[ATTR.exceptionStacktrace] = scrubStack(stack, known);
  }
  // fail() puts the same text in the status message and the exception event: scrubbed once.
  if (status) span.status.message = status === raw && clean !== undefined ? clean : scrub(status);
}
