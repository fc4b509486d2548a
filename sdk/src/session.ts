/**
 * One agent session: status changes, heartbeats, turns, tool calls and failures as spans.
 *
 * Spans are exported only when they end, so a hung run would send nothing; that is why every
 * state change is its own zero-length span and a heartbeat goes out while work is in flight.
 * All spans of a session share one trace: the first status span is the parent of the rest.
 */
import { randomUUID } from 'node:crypto';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, context, createContextKey, isSpanContextValid, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, AttributeValue, Context, Span, Tracer } from '@opentelemetry/api';
import { ATTR, SPAN, canBeStuck, canTransition } from '@faultline/schema';
import type { SessionState } from '@faultline/schema';
import { unknownCode } from './catalog.ts';
import { clientErrorFrom, describeError } from './errors.ts';
import type { ClientError, DescribedError, FailContext } from './errors.ts';
import type { Guard } from './guard.ts';
import { internalError } from './guard.ts';

export interface SessionOptions {
  /** Your session/conversation/thread id; a random UUID when omitted. */
  id?: string;
  /** Agent name (gen_ai.agent.name); also names turn spans: `invoke_agent <agent>`. */
  agent?: string;
  /** AI provider (gen_ai.provider.name), e.g. `anthropic`; fills {provider} in user messages. */
  provider?: string;
  /** Requested model (gen_ai.request.model); fills {model} in user messages. */
  model?: string;
  /** Overrides the collector's stuck threshold for this session. */
  stuckAfterMs?: number;
  /** Extra attributes put on every span of the session (e.g. tenant, user id; no secrets). */
  attributes?: Attributes;
  /** The first state; default `starting`. */
  state?: SessionState;
  /** Status message of the first state, e.g. "Creating execution environment…". */
  statusMessage?: string;
  /**
   * When true (default), an outermost `turn()` moves the session to `running` and back to `ready`
   * when it returns, and to `error` when it throws. Turn it off to drive every state yourself.
   */
  autoStatus?: boolean;
}

/** Given to a `turn()` callback. */
export interface TurnContext {
  readonly sessionId: string;
  readonly span: Span;
  /** Records the assistant's user-facing output (faultline.output.text), e.g. for orchestrators. */
  output(text: string): void;
  setAttributes(attributes: Attributes): void;
}

/** Given to a `tool()` callback. */
export interface ToolContext {
  readonly sessionId: string;
  readonly span: Span;
  setAttributes(attributes: Attributes): void;
}

/** Where the SDK is inside the runtime's call stack (turn or tool of which session). */
export interface ActiveSpan {
  session: Session;
  span: Span;
  kind: 'turn' | 'tool';
  /** fail() recorded an error on this span: it must not end as OK. */
  failed: boolean;
  /** The span must end after this time (ms), i.e. after the status change that preceded its error. */
  endNotBeforeMs: number;
}

export interface RecordedError {
  session: Session;
  described: DescribedError;
  payload: ClientError;
  /** A status change was emitted for this failure (a tool's error changes no state until fail()). */
  statusEmitted: boolean;
  /** The same error object recorded by another session (rare: one error shared by two sessions). */
  elsewhere: RecordedError | undefined;
}

/** What sessions of one Faultline instance share. */
export interface SessionRuntime {
  tracer: Tracer;
  guard: Guard;
  heartbeatIntervalMs: number;
  activeSpan: AsyncLocalStorage<ActiveSpan>;
  /**
   * Errors already recorded, by error object (the last session's first), so a rethrown or
   * re-reported error is one occurrence and `toClientError` returns the same payload.
   */
  recorded: WeakMap<object, RecordedError>;
  /** Sessions with a running heartbeat timer, stopped on shutdown. */
  heartbeating: Set<Session>;
  /** False when our exporter scrubs messages and stacks at export time, off the caller's path. */
  scrubInline: boolean;
  /** Whether the process has an OpenTelemetry context manager (re-checked once a second). */
  contextManager: { active: boolean; checkAt: number };
}

/** Gap that keeps a status change strictly before the error that caused it, even at ms precision. */
const ORDER_GAP_MS = 1;
const MAX_OUTPUT_TEXT = 32_768;
/** Span templates cached per session (turn and tool names); names beyond this are built per call. */
const TEMPLATE_CACHE_MAX = 64;
const CONTEXT_MANAGER_RECHECK_MS = 1_000;

/** Our ActiveSpan inside an OpenTelemetry context, when the process has a context manager. */
const ACTIVE_SPAN_KEY = createContextKey('faultline.active_span');
const PROBE_KEY = createContextKey('faultline.context_probe');
const PROBE_CONTEXT = ROOT_CONTEXT.setValue(PROBE_KEY, true);
const isProbe = () => context.active() === PROBE_CONTEXT;

// Epoch milliseconds from the monotonic clock: cheaper than building HrTime tuples, and
// OTel turns a number this large into span time directly.
const TIME_ORIGIN = performance.timeOrigin;
const nowMs = () => TIME_ORIGIN + performance.now();

function toAttributeValue(value: unknown): AttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** A value that can key a WeakMap. */
function isObject(value: unknown): value is object {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === 'function';
  } catch {
    return false; // a hostile getter: treat the value as a plain result
  }
}

interface SpanTemplate {
  name: string;
  /** Session attributes and the span's own, merged once: passed to OTel as they are. */
  attributes: Attributes;
}

/** The `turnContext`/`toolContext` a callback gets: methods on a prototype, no closures per call. */
class SpanHandle implements TurnContext {
  constructor(
    readonly sessionId: string,
    readonly span: Span,
    private readonly guard: Guard,
  ) {}

  output(text: string): void {
    try {
      this.span.setAttribute(ATTR.outputText, String(text).slice(0, MAX_OUTPUT_TEXT));
    } catch (error) {
      internalError(this.guard, 'turn output', error);
    }
  }

  setAttributes(attributes: Attributes): void {
    try {
      this.span.setAttributes(attributes);
    } catch (error) {
      internalError(this.guard, 'setAttributes', error);
    }
  }
}

export class Session {
  readonly id: string;
  readonly agent: string | undefined;
  readonly provider: string | undefined;
  readonly model: string | undefined;
  /** The session's trace id (hex), for support; null when spans are not recorded. */
  readonly traceId: string | null;
  private readonly runtime: SessionRuntime;
  private readonly baseAttributes: Attributes;
  private readonly stuckAfterMs: number | undefined;
  private readonly autoStatus: boolean;
  private readonly turnTemplates = new Map<string, SpanTemplate>();
  private readonly toolTemplates = new Map<string, SpanTemplate>();
  /**
   * A thrown primitive (a string, a number) cannot key a WeakMap: the last one that escaped a
   * turn or tool is remembered until the next fail() or outermost turn, which covers
   * `catch (e) { session.fail(e) }` without merging two separate failures that throw the same text.
   */
  private escapedPrimitive: { value: unknown; recorded: RecordedError } | null = null;
  private current: SessionState | null = null;
  private rootContext: Context;
  private lastTimeMs = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private heartbeatDetails: Record<string, unknown> = {};
  private turnDepth = 0;
  private ended = false;

  constructor(runtime: SessionRuntime, given: SessionOptions | undefined) {
    const options = given ?? {};
    this.runtime = runtime;
    this.id = options.id || randomUUID();
    this.agent = options.agent;
    this.provider = options.provider;
    this.model = options.model;
    this.stuckAfterMs = options.stuckAfterMs;
    this.autoStatus = options.autoStatus ?? true;
    this.baseAttributes = { ...options.attributes, [ATTR.sessionId]: this.id };
    if (this.agent) this.baseAttributes[ATTR.genAiAgent] = this.agent;
    if (this.provider) this.baseAttributes[ATTR.genAiProvider] = this.provider;
    if (this.model) this.baseAttributes[ATTR.genAiModel] = this.model;

    // The first status span joins the runtime's active trace, if any, and parents the session.
    this.rootContext = context.active();
    let first: Span | null = null;
    try {
      first = this.emitStatus(options.state ?? 'starting', options.statusMessage);
    } catch (error) {
      internalError(runtime.guard, 'startSession', error);
    }
    const firstContext = first?.spanContext();
    this.traceId = firstContext && isSpanContextValid(firstContext) ? firstContext.traceId : null;
    if (first) this.rootContext = trace.setSpan(this.rootContext, first);
  }

  /** The last state this session reported. */
  get state(): SessionState | null {
    return this.current;
  }

  /** Reports a state change (and optional message shown to the user, e.g. "Installing packages…"). */
  status(state: SessionState, message?: string): void {
    try {
      this.emitStatus(state, message);
    } catch (error) {
      internalError(this.runtime.guard, 'status', error);
    }
  }

  /**
   * Sends a sign of life now with progress details (events processed, phase, …). The details are
   * kept and repeated by the periodic heartbeat while the session is starting/running/retrying.
   */
  heartbeat(details?: Record<string, unknown>): void {
    try {
      if (details) Object.assign(this.heartbeatDetails, details);
      this.emitHeartbeat();
    } catch (error) {
      internalError(this.runtime.guard, 'heartbeat', error);
    }
  }

  /**
   * Runs one agent turn inside an `invoke_agent <agent>` span. Errors thrown by `fn` are recorded
   * (the session moves to `error` first) and rethrown: what to do next is the runtime's decision.
   */
  turn<T>(name: string, fn: (turn: TurnContext) => T | Promise<T>): Promise<T> {
    const outermost = this.turnDepth === 0;
    const changeState = outermost && this.autoStatus;
    if (outermost) this.escapedPrimitive = null;
    if (changeState && this.current !== 'running') this.status('running');
    const active = this.openSpan('turn', name);
    if (!active) return this.runDetached(fn, this.detachedContext());
    this.turnDepth++;
    let result: T | Promise<T>;
    try {
      result = this.runIn(active, fn, new SpanHandle(this.id, active.span, this.runtime.guard));
    } catch (error) {
      this.turnDepth--;
      this.onThrown(active, error, changeState);
      return Promise.reject(error);
    }
    // A callback that returns synchronously ends its span synchronously: no extra promise hops.
    if (!isThenable(result)) {
      this.turnDepth--;
      this.turnReturned(active, changeState);
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.turnDepth--;
        this.turnReturned(active, changeState);
        return value;
      },
      (error: unknown) => {
        this.turnDepth--;
        this.onThrown(active, error, changeState);
        throw error;
      },
    );
  }

  /**
   * Runs one tool call inside an `execute_tool <name>` span. A throw is recorded on the tool span
   * and rethrown; it does not change the session state (the agent may try another way).
   */
  tool<T>(name: string, fn: (tool: ToolContext) => T | Promise<T>): Promise<T> {
    const active = this.openSpan('tool', name);
    if (!active) return this.runDetached(fn, this.detachedContext());
    let result: T | Promise<T>;
    try {
      result = this.runIn(active, fn, new SpanHandle(this.id, active.span, this.runtime.guard));
    } catch (error) {
      this.onThrown(active, error, false);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.closeSpan(active);
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.closeSpan(active);
        return value;
      },
      (error: unknown) => {
        this.onThrown(active, error, false);
        throw error;
      },
    );
  }

  /**
   * Records a failure: first the status change (to `error`, or `stopped` if the session already
   * stopped, or `context.state`), then the error — on the current turn/tool span when called inside
   * one, else on its own `faultline.error` span. Returns what to show the user.
   *
   * An error this session already recorded (it escaped a turn or tool, or fail() saw it before) is
   * not recorded again: one failure is one occurrence. fail() then returns the same payload and
   * only makes sure the session left its working state (once).
   */
  fail(error: unknown, failContext: FailContext = {}): ClientError {
    try {
      const recordedBefore = isObject(error) ? this.runtime.recorded.get(error) : undefined;
      const known = this.knownError(error, true, recordedBefore);
      if (known) {
        if (!known.statusEmitted) {
          known.statusEmitted = true;
          this.emitStatus(this.failureState(failContext), known.described.userMessage);
        }
        return known.payload;
      }
      const active = this.activeHere();
      const described = describeError(error, failContext, {
        isTool: active?.kind === 'tool',
        provider: this.provider,
        model: this.model,
        scrub: this.runtime.scrubInline,
        // Outside a turn the error gets a span of its own, which carries the session's attributes.
        base: active ? undefined : this.baseAttributes,
      });
      this.recordFailure(described, this.failureState(failContext), active);
      return this.remember(error, described, true, recordedBefore).payload;
    } catch (internal) {
      internalError(this.runtime.guard, 'fail', internal);
      return this.fallbackPayload(failContext.code);
    }
  }

  /** The friendly payload for an error, without recording anything. */
  toClientError(error: unknown): ClientError {
    try {
      const known = this.knownError(error, false);
      if (known) return known.payload;
      const described = describeError(error, {}, { provider: this.provider, model: this.model });
      return clientErrorFrom(described, { sessionId: this.id, traceId: this.traceId });
    } catch (internal) {
      internalError(this.runtime.guard, 'toClientError', internal);
      return this.fallbackPayload();
    }
  }

  /** Ends the session (`completed` by default, or `stopped`) and stops its heartbeat. */
  end(state: SessionState = 'completed', message?: string): void {
    try {
      this.emitStatus(state, message);
    } catch (error) {
      internalError(this.runtime.guard, 'end', error);
    }
    this.ended = true;
    this.stopHeartbeat();
  }

  /** Stops the heartbeat without a status change (the SDK is shutting down). */
  stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.runtime.heartbeating.delete(this);
  }

  // --- internals ---------------------------------------------------------------------------

  /** A time (epoch ms) strictly after every earlier one of this session, at least `gapMs` later. */
  private nextTime(gapMs = 0.001): number {
    const ms = Math.max(nowMs(), this.lastTimeMs + gapMs);
    this.lastTimeMs = ms;
    return ms;
  }

  private startSpan(name: string, attributes: Attributes, parent: Context, startTime: number): Span {
    // Object.assign, not spread: V8 copies these dotted-key objects an order of magnitude faster.
    return this.runtime.tracer.startSpan(name, { attributes: Object.assign({}, this.baseAttributes, attributes), startTime }, parent);
  }

  private failureState(failContext: FailContext): SessionState {
    return failContext.state ?? (this.current === 'stopped' ? 'stopped' : 'error');
  }

  private emitStatus(state: SessionState, message?: string, gapMs?: number): Span | null {
    const from = this.current;
    const legal = canTransition(from, state);
    if (!legal) {
      this.runtime.guard.stats.illegalTransitions++;
      this.runtime.guard.log(`session ${this.id}: illegal transition ${from} → ${state} (emitted anyway)`);
    }
    this.current = state;
    // Built on a copy of the session's attributes: one object per status span, not two.
    const attributes: Attributes = Object.assign({}, this.baseAttributes);
    attributes[ATTR.sessionState] = state;
    if (message !== undefined) attributes[ATTR.sessionStatusMessage] = message;
    if (from) attributes['faultline.session.previous_state'] = from;
    if (this.stuckAfterMs !== undefined) attributes[ATTR.sessionStuckAfterMs] = this.stuckAfterMs;
    if (!legal) attributes['faultline.session.illegal_transition'] = true;
    const at = this.nextTime(gapMs);
    const span = this.runtime.tracer.startSpan(SPAN.status, { attributes, startTime: at }, this.rootContext);
    span.end(at);
    this.syncHeartbeat();
    return span;
  }

  private emitHeartbeat(): void {
    const attributes: Attributes = {};
    for (const [key, value] of Object.entries(this.heartbeatDetails)) {
      const attributeValue = toAttributeValue(value);
      if (attributeValue !== undefined) attributes[`${ATTR.heartbeatPrefix}${key}`] = attributeValue;
    }
    const at = this.nextTime();
    const span = this.startSpan(SPAN.heartbeat, attributes, this.rootContext, at);
    span.end(at);
  }

  /** Heartbeats run exactly while the session is in a state that can get stuck. */
  private syncHeartbeat(): void {
    const wanted = !this.ended && canBeStuck(this.current) && this.runtime.heartbeatIntervalMs > 0;
    if (wanted && !this.heartbeatTimer) {
      this.heartbeatTimer = setInterval(() => {
        try {
          this.emitHeartbeat();
        } catch (error) {
          internalError(this.runtime.guard, 'heartbeat timer', error);
        }
      }, this.runtime.heartbeatIntervalMs);
      this.heartbeatTimer.unref?.();
      this.runtime.heartbeating.add(this);
    } else if (!wanted && this.heartbeatTimer) {
      this.stopHeartbeat();
    }
  }

  /** The span's name and merged attributes, built once per turn/tool name. */
  private template(kind: 'turn' | 'tool', name: string): SpanTemplate {
    const templates = kind === 'turn' ? this.turnTemplates : this.toolTemplates;
    const cached = templates.get(name);
    if (cached) return cached;
    const attributes: Attributes = Object.assign({}, this.baseAttributes);
    let spanName: string;
    if (kind === 'turn') {
      const agent = this.agent ?? name;
      attributes[ATTR.genAiOperation] = 'invoke_agent';
      attributes['faultline.turn.name'] = name;
      attributes[ATTR.genAiAgent] = agent;
      spanName = `${SPAN.turnPrefix} ${agent}`;
    } else {
      attributes[ATTR.genAiOperation] = 'execute_tool';
      attributes[ATTR.genAiTool] = name;
      spanName = `${SPAN.toolPrefix} ${name}`;
    }
    const template = { name: spanName, attributes };
    if (templates.size < TEMPLATE_CACHE_MAX) templates.set(name, template);
    return template;
  }

  private openSpan(kind: 'turn' | 'tool', name: string): ActiveSpan | null {
    try {
      const store = this.activeHere();
      const parent = store ? trace.setSpan(this.rootContext, store.span) : this.rootContext;
      const template = this.template(kind, name);
      // On the session's clock: OTel's default start is Date.now() in whole ms, which can read
      // earlier than the status change (e.g. `running`) this span follows.
      const span = this.runtime.tracer.startSpan(template.name, { attributes: template.attributes, startTime: this.nextTime() }, parent);
      return { session: this, span, kind, failed: false, endNotBeforeMs: 0 };
    } catch (error) {
      internalError(this.runtime.guard, `${kind} start`, error);
      return null;
    }
  }

  /** The turn or tool of this session the caller is inside, if any. */
  private activeHere(): ActiveSpan | undefined {
    // Without a context manager nothing can be in an OTel context: skip the lookup.
    const fromContext = this.runtime.contextManager.active ? (context.active().getValue(ACTIVE_SPAN_KEY) as ActiveSpan | undefined) : undefined;
    const store = fromContext ?? this.runtime.activeSpan.getStore();
    return store && store.session === this ? store : undefined;
  }

  /**
   * Runs fn with the span current for the SDK and for any OTel instrumentation of the runtime: one
   * `context.with` when the process has a context manager, else only our AsyncLocalStorage.
   */
  private runIn<A, R>(active: ActiveSpan, fn: (arg: A) => R, arg: A): R {
    const manager = this.runtime.contextManager;
    const now = this.lastTimeMs;
    if (now >= manager.checkAt) {
      manager.active = context.with(PROBE_CONTEXT, isProbe);
      manager.checkAt = now + CONTEXT_MANAGER_RECHECK_MS;
    }
    if (manager.active) {
      const current = trace.setSpan(context.active(), active.span).setValue(ACTIVE_SPAN_KEY, active);
      return context.with(current, fn, undefined, arg);
    }
    return this.runtime.activeSpan.run(active, fn, arg);
  }

  private async runDetached<A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T> {
    return await fn(arg);
  }

  private turnReturned(active: ActiveSpan, changeState: boolean): void {
    this.closeSpan(active);
    if (changeState && this.current === 'running') this.status('ready');
  }

  private closeSpan(active: ActiveSpan): void {
    try {
      // With an explicit start OTel would end at Date.now(), possibly before the start.
      const end = Math.max(this.nextTime(), active.endNotBeforeMs);
      this.lastTimeMs = Math.max(this.lastTimeMs, end);
      active.span.end(end);
    } catch (error) {
      internalError(this.runtime.guard, 'span end', error);
    }
  }

  /** What this session already recorded for `error`; `consume` takes a remembered primitive. */
  private knownError(error: unknown, consume: boolean, recorded = isObject(error) ? this.runtime.recorded.get(error) : undefined): RecordedError | undefined {
    if (isObject(error)) {
      for (let known = recorded; known; known = known.elsewhere) if (known.session === this) return known;
      return undefined;
    }
    const escaped = this.escapedPrimitive;
    if (!escaped || !Object.is(escaped.value, error)) return undefined;
    if (consume) this.escapedPrimitive = null;
    return escaped.recorded;
  }

  /** An error escaped a turn or tool callback: record it once, keep the status-before-error order. */
  private onThrown(active: ActiveSpan, error: unknown, changeState: boolean): void {
    try {
      const known = this.knownError(error, false);
      if (known) {
        // Already recorded (by fail() or by the tool it escaped from): mark this span failed with
        // the same code, without a second exception event, and make sure the session left running.
        if (changeState && this.current !== 'error' && this.current !== 'stopped') {
          this.emitStatus('error', known.described.userMessage);
          known.statusEmitted = true;
          active.endNotBeforeMs = this.lastTimeMs + ORDER_GAP_MS;
        }
        active.span.setAttributes({
          [ATTR.errorType]: known.described.code,
          [ATTR.errorCategory]: known.described.category,
          [ATTR.errorRetryable]: known.described.retryable,
          // Propagated only when another span recorded it; fail() inside this very callback
          // recorded it here, and this span must keep its occurrence.
          ...(active.failed ? {} : { [ATTR.errorPropagated]: true }),
        });
        active.span.setStatus({ code: SpanStatusCode.ERROR, message: known.described.technicalMessage });
      } else {
        const described = describeError(error, {}, {
          isTool: active.kind === 'tool',
          provider: this.provider,
          model: this.model,
          scrub: this.runtime.scrubInline,
        });
        const target = changeState ? (this.current === 'stopped' ? 'stopped' : 'error') : null;
        this.recordFailure(described, target, active);
        const recorded = this.remember(error, described, target !== null);
        if (!isObject(error)) {
          this.escapedPrimitive = { value: error, recorded };
        }
      }
    } catch (internal) {
      internalError(this.runtime.guard, 'record thrown error', internal);
    }
    this.closeSpan(active);
  }

  /** The status change first, then the error: on `active`'s span, or on a new error span. */
  private recordFailure(described: DescribedError, target: SessionState | null, active: ActiveSpan | undefined): void {
    if (target) this.emitStatus(target, described.userMessage);
    if (active) {
      this.applyError(active.span, described);
      active.failed = true;
      active.endNotBeforeMs = this.lastTimeMs + ORDER_GAP_MS;
      return;
    }
    const at = this.nextTime(ORDER_GAP_MS);
    // fail() built these on the session's attributes already (describeError's `base`).
    const span = this.runtime.tracer.startSpan(SPAN.error, { attributes: described.attributes, startTime: at }, this.rootContext);
    this.recordOn(span, described, at);
    span.end(at);
  }

  private applyError(span: Span, described: DescribedError): void {
    span.setAttributes(described.attributes);
    this.recordOn(span, described, this.nextTime());
  }

  /** The exception event on the session's clock: OTel's own would be whole ms, maybe before the span. */
  private recordOn(span: Span, described: DescribedError, at: number): void {
    span.recordException({ name: described.exceptionType, message: described.technicalMessage, stack: described.stacktrace }, at);
    span.setStatus({ code: SpanStatusCode.ERROR, message: described.technicalMessage });
  }

  /** `elsewhere`: what the runtime recorded for this error before (another session's), if known. */
  private remember(error: unknown, described: DescribedError, statusEmitted: boolean, elsewhere?: RecordedError): RecordedError {
    const payload = clientErrorFrom(described, { sessionId: this.id, traceId: this.traceId });
    if (!isObject(error)) return { session: this, described, payload, statusEmitted, elsewhere: undefined };
    // One WeakMap for the whole runtime: an insert costs ~0.3 µs, a sizeable part of fail().
    const recorded: RecordedError = { session: this, described, payload, statusEmitted, elsewhere: elsewhere ?? this.runtime.recorded.get(error) };
    this.runtime.recorded.set(error, recorded);
    return recorded;
  }

  private fallbackPayload(code?: string): ClientError {
    return {
      code: code ?? unknownCode(),
      title: 'Something went wrong',
      message: 'Something went wrong while the agent was working.',
      retryable: 'once',
      sessionId: this.id,
      traceId: this.traceId,
    };
  }

  private detachedContext(): TurnContext {
    const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return { sessionId: this.id, span, output: () => {}, setAttributes: () => {} };
  }
}
