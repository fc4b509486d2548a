/**
 * One agent session: status changes, heartbeats, turns, tool calls and failures as spans.
 *
 * Spans are exported only when they end, so a hung run would send nothing; that is why every
 * state change is its own zero-length span and a heartbeat goes out while work is in flight.
 * All spans of a session share one trace: the first status span is the parent of the rest.
 */
import { randomUUID } from 'node:crypto';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { INVALID_SPAN_CONTEXT, context, isSpanContextValid, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, AttributeValue, Context, HrTime, Span, Tracer } from '@opentelemetry/api';
import { hrTime, hrTimeToMilliseconds, millisToHrTime } from '@opentelemetry/core';
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
  described: DescribedError;
  payload: ClientError;
}

/** What sessions of one Faultline instance share. */
export interface SessionRuntime {
  tracer: Tracer;
  guard: Guard;
  heartbeatIntervalMs: number;
  activeSpan: AsyncLocalStorage<ActiveSpan>;
  /** Errors already recorded, so a rethrown error is not recorded twice and toClientError matches. */
  recorded: WeakMap<object, RecordedError>;
  /** Sessions with a running heartbeat timer, stopped on shutdown. */
  heartbeating: Set<Session>;
}

/** Gap that keeps a status change strictly before the error that caused it, even at ms precision. */
const ORDER_GAP_MS = 1;
const MAX_OUTPUT_TEXT = 32_768;

function toAttributeValue(value: unknown): AttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
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
  async turn<T>(name: string, fn: (turn: TurnContext) => T | Promise<T>): Promise<T> {
    const outermost = this.turnDepth === 0;
    this.turnDepth++;
    try {
      if (outermost && this.autoStatus && this.current !== 'running') this.status('running');
      const active = this.openSpan('turn', name);
      if (!active) return await fn(this.detachedTurnContext());
      const span = active.span;
      const turnContext: TurnContext = {
        sessionId: this.id,
        span,
        output: (text) => {
          try {
            span.setAttribute(ATTR.outputText, String(text).slice(0, MAX_OUTPUT_TEXT));
          } catch (error) {
            internalError(this.runtime.guard, 'turn output', error);
          }
        },
        setAttributes: (attributes) => this.safeSetAttributes(span, attributes),
      };
      let result: T;
      try {
        result = await this.runIn(active, () => fn(turnContext));
      } catch (error) {
        this.onThrown(active, error, outermost && this.autoStatus);
        throw error;
      }
      this.closeSpan(active);
      if (outermost && this.autoStatus && this.current === 'running') this.status('ready');
      return result;
    } finally {
      this.turnDepth--;
    }
  }

  /**
   * Runs one tool call inside an `execute_tool <name>` span. A throw is recorded on the tool span
   * and rethrown; it does not change the session state (the agent may try another way).
   */
  async tool<T>(name: string, fn: (tool: ToolContext) => T | Promise<T>): Promise<T> {
    const active = this.openSpan('tool', name);
    if (!active) return await fn({ sessionId: this.id, span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT), setAttributes: () => {} });
    const toolContext: ToolContext = {
      sessionId: this.id,
      span: active.span,
      setAttributes: (attributes) => this.safeSetAttributes(active.span, attributes),
    };
    let result: T;
    try {
      result = await this.runIn(active, () => fn(toolContext));
    } catch (error) {
      this.onThrown(active, error, false);
      throw error;
    }
    this.closeSpan(active);
    return result;
  }

  /**
   * Records a failure: first the status change (to `error`, or `stopped` if the session already
   * stopped, or `context.state`), then the error — on the current turn/tool span when called inside
   * one, else on its own `faultline.error` span. Returns what to show the user.
   */
  fail(error: unknown, failContext: FailContext = {}): ClientError {
    try {
      const store = this.runtime.activeSpan.getStore();
      const active = store && store.session === this ? store : undefined;
      const described = describeError(error, failContext, {
        isTool: active?.kind === 'tool',
        provider: this.provider,
        model: this.model,
      });
      const target = failContext.state ?? (this.current === 'stopped' ? 'stopped' : 'error');
      this.recordFailure(described, target, active);
      return this.remember(error, described);
    } catch (internal) {
      internalError(this.runtime.guard, 'fail', internal);
      return this.fallbackPayload(failContext.code);
    }
  }

  /** The friendly payload for an error, without recording anything. */
  toClientError(error: unknown): ClientError {
    try {
      if (error !== null && typeof error === 'object') {
        const known = this.runtime.recorded.get(error);
        if (known) return known.payload;
      }
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

  /** A time strictly after every earlier one of this session, at least `gapMs` later. */
  private nextTime(gapMs = 0.001): HrTime {
    const now = hrTimeToMilliseconds(hrTime());
    const ms = Math.max(now, this.lastTimeMs + gapMs);
    this.lastTimeMs = ms;
    return millisToHrTime(ms);
  }

  private startSpan(name: string, attributes: Attributes, parent: Context, startTime?: HrTime): Span {
    return this.runtime.tracer.startSpan(name, { attributes: { ...this.baseAttributes, ...attributes }, startTime }, parent);
  }

  private emitStatus(state: SessionState, message?: string, gapMs?: number): Span | null {
    const from = this.current;
    const legal = canTransition(from, state);
    if (!legal) {
      this.runtime.guard.stats.illegalTransitions++;
      this.runtime.guard.log(`session ${this.id}: illegal transition ${from} → ${state} (emitted anyway)`);
    }
    this.current = state;
    const attributes: Attributes = { [ATTR.sessionState]: state };
    if (message !== undefined) attributes[ATTR.sessionStatusMessage] = message;
    if (from) attributes['faultline.session.previous_state'] = from;
    if (this.stuckAfterMs !== undefined) attributes[ATTR.sessionStuckAfterMs] = this.stuckAfterMs;
    if (!legal) attributes['faultline.session.illegal_transition'] = true;
    const at = this.nextTime(gapMs);
    const span = this.startSpan(SPAN.status, attributes, this.rootContext, at);
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

  private openSpan(kind: 'turn' | 'tool', name: string): ActiveSpan | null {
    try {
      const store = this.runtime.activeSpan.getStore();
      const parent = store && store.session === this ? trace.setSpan(this.rootContext, store.span) : this.rootContext;
      const attributes: Attributes =
        kind === 'turn'
          ? { [ATTR.genAiOperation]: 'invoke_agent', 'faultline.turn.name': name }
          : { [ATTR.genAiOperation]: 'execute_tool', [ATTR.genAiTool]: name };
      const agent = this.agent ?? name;
      if (kind === 'turn') attributes[ATTR.genAiAgent] = agent;
      const spanName = kind === 'turn' ? `${SPAN.turnPrefix} ${agent}` : `${SPAN.toolPrefix} ${name}`;
      // On the session's clock: OTel's default start is Date.now() in whole ms, which can read
      // earlier than the status change (e.g. `running`) this span follows.
      const span = this.startSpan(spanName, attributes, parent, this.nextTime());
      return { session: this, span, kind, failed: false, endNotBeforeMs: 0 };
    } catch (error) {
      internalError(this.runtime.guard, `${kind} start`, error);
      return null;
    }
  }

  /** Runs fn with the span current both for the SDK and for any OTel instrumentation of the runtime. */
  private runIn<T>(active: ActiveSpan, fn: () => T | Promise<T>): Promise<T> {
    return this.runtime.activeSpan.run(active, () =>
      context.with(trace.setSpan(context.active(), active.span), async () => fn()),
    );
  }

  private closeSpan(active: ActiveSpan): void {
    try {
      // With an explicit start OTel would end at Date.now(), possibly before the start.
      const end = Math.max(hrTimeToMilliseconds(this.nextTime()), active.endNotBeforeMs);
      this.lastTimeMs = Math.max(this.lastTimeMs, end);
      active.span.end(millisToHrTime(end));
    } catch (error) {
      internalError(this.runtime.guard, 'span end', error);
    }
  }

  /** An error escaped a turn or tool callback: record it once, keep the status-before-error order. */
  private onThrown(active: ActiveSpan, error: unknown, changeState: boolean): void {
    try {
      const known = error !== null && typeof error === 'object' ? this.runtime.recorded.get(error) : undefined;
      if (known) {
        // Already recorded (by fail() or by the tool it escaped from): mark this span failed with
        // the same code, without a second exception event, and make sure the session left running.
        if (changeState && this.current !== 'error' && this.current !== 'stopped') {
          this.emitStatus('error', known.described.userMessage);
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
        const described = describeError(error, {}, { isTool: active.kind === 'tool', provider: this.provider, model: this.model });
        const target = changeState ? (this.current === 'stopped' ? 'stopped' : 'error') : null;
        this.recordFailure(described, target, active);
        this.remember(error, described);
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
    const span = this.startSpan(SPAN.error, {}, this.rootContext, at);
    this.applyError(span, described);
    span.end(at);
  }

  private applyError(span: Span, described: DescribedError): void {
    span.setAttributes(described.attributes);
    span.recordException({ name: described.exceptionType, message: described.technicalMessage, stack: described.stacktrace });
    span.setStatus({ code: SpanStatusCode.ERROR, message: described.technicalMessage });
  }

  private remember(error: unknown, described: DescribedError): ClientError {
    const payload = clientErrorFrom(described, { sessionId: this.id, traceId: this.traceId });
    if (error !== null && typeof error === 'object') this.runtime.recorded.set(error, { described, payload });
    return payload;
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

  private safeSetAttributes(span: Span, attributes: Attributes): void {
    try {
      span.setAttributes(attributes);
    } catch (error) {
      internalError(this.runtime.guard, 'setAttributes', error);
    }
  }

  private detachedTurnContext(): TurnContext {
    const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return { sessionId: this.id, span, output: () => {}, setAttributes: () => {} };
  }
}
