import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ATTR, SPAN } from '@faultline/schema';
import { memoryFaultline, ns } from './test-support.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('session spans', () => {
  it('puts session.id on every span and follows the GenAI names for turns and tools', async () => {
    const { faultline, spans, named } = memoryFaultline();
    const session = faultline.startSession({ id: 'sess-1', agent: 'coder', provider: 'anthropic', model: 'claude-sonnet-4-5' });

    const answer = await session.turn('reply', async (turn) => {
      const listing = await session.tool('list_files', async () => ['a.ts', 'b.ts']);
      turn.output(`found ${listing.length} files`);
      return 'done';
    });
    session.end();

    expect(answer).toBe('done');
    const all = spans();
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const span of all) expect(span.attributes[ATTR.sessionId]).toBe('sess-1');
    // one trace per session, so support can follow it from a single id
    expect(new Set(all.map((s) => s.spanContext().traceId))).toEqual(new Set([session.traceId]));

    const [turn] = named('invoke_agent coder');
    expect(turn.attributes).toMatchObject({
      [ATTR.genAiOperation]: 'invoke_agent',
      [ATTR.genAiAgent]: 'coder',
      [ATTR.genAiProvider]: 'anthropic',
      [ATTR.genAiModel]: 'claude-sonnet-4-5',
      [ATTR.outputText]: 'found 2 files',
    });
    const [tool] = named('execute_tool list_files');
    expect(tool.attributes).toMatchObject({ [ATTR.genAiOperation]: 'execute_tool', [ATTR.genAiTool]: 'list_files' });
    expect(tool.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(turn.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('emits a zero-length status span for every state change, in order', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ statusMessage: 'Creating execution environment…', stuckAfterMs: 30_000 });
    await session.turn('reply', () => 'ok');
    session.end('completed');

    const statuses = named(SPAN.status);
    expect(statuses.map((s) => s.attributes[ATTR.sessionState])).toEqual(['starting', 'running', 'ready', 'completed']);
    expect(statuses[0].attributes[ATTR.sessionStatusMessage]).toBe('Creating execution environment…');
    for (const status of statuses) {
      expect(ns(status.endTime)).toBe(ns(status.startTime));
      expect(status.attributes[ATTR.sessionStuckAfterMs]).toBe(30_000);
    }
    const times = statuses.map((s) => ns(s.startTime));
    expect([...times].sort((a, b) => (a < b ? -1 : 1))).toEqual(times);
  });

  it('leaves every state to the runtime when autoStatus is off', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ state: 'ready', autoStatus: false });
    await session.turn('reply', () => 'ok');
    expect(named(SPAN.status).map((s) => s.attributes[ATTR.sessionState])).toEqual(['ready']);
  });
});

describe('status before error', () => {
  it('fail() outside a turn: the status span ends before the error span starts', () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ id: 'sess-2' });
    const payload = session.fail(new Error('Modal context is required'), { operation: 'sandbox_create' });

    const [errorStatus] = named(SPAN.status).filter((s) => s.attributes[ATTR.sessionState] === 'error');
    const [errorSpan] = named(SPAN.error);
    expect(errorStatus).toBeDefined();
    expect(errorSpan).toBeDefined();
    expect(ns(errorStatus.endTime)).toBeLessThan(ns(errorSpan.startTime));
    // the status carries the friendly words, so no client is left on "Creating…"
    expect(errorStatus.attributes[ATTR.sessionStatusMessage]).toBe(payload.message);
    expect(errorSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(errorSpan.attributes[ATTR.errorType]).toBe(payload.code);
    expect(errorSpan.attributes[ATTR.sessionId]).toBe('sess-2');
    const exception = errorSpan.events.find((e) => e.name === 'exception');
    expect(exception?.attributes).toMatchObject({
      [ATTR.exceptionType]: 'Error',
      [ATTR.exceptionMessage]: 'Modal context is required',
    });
    expect(String(exception?.attributes?.[ATTR.exceptionStacktrace])).toContain('session.test.ts');
  });

  it('a turn that throws: error status first, then the turn span ends in ERROR, and the error reaches the caller', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const boom = new Error('sendTurn failed: adapter crashed');

    await expect(session.turn('reply', () => Promise.reject(boom))).rejects.toBe(boom);

    const [turn] = named('invoke_agent coder');
    const errorStatus = named(SPAN.status).find((s) => s.attributes[ATTR.sessionState] === 'error');
    expect(errorStatus).toBeDefined();
    expect(ns(errorStatus!.endTime)).toBeLessThan(ns(turn.endTime));
    expect(turn.status.code).toBe(SpanStatusCode.ERROR);
    expect(turn.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    expect(session.state).toBe('error');
  });

  it('fail() inside a tool records on the tool span, after the status change', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({});
    await session.turn('reply', async () => {
      await session.tool('bash', async () => {
        session.fail(new Error('exit 1'));
      });
    });
    const [tool] = named('execute_tool bash');
    const errorStatus = named(SPAN.status).find((s) => s.attributes[ATTR.sessionState] === 'error');
    expect(named(SPAN.error)).toHaveLength(0);
    expect(tool.status.code).toBe(SpanStatusCode.ERROR);
    expect(ns(errorStatus!.endTime)).toBeLessThan(ns(tool.endTime));
    // the turn did not move an errored session back to ready
    expect(session.state).toBe('error');
  });

  it('a tool error that escapes the turn is recorded once, and the session leaves running', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const broken = new Error('ENOENT: no such file');
    await expect(
      session.turn('reply', () => session.tool('read_file', () => Promise.reject(broken))),
    ).rejects.toBe(broken);

    const [tool] = named('execute_tool read_file');
    const [turn] = named('invoke_agent coder');
    const exceptionEvents = [...tool.events, ...turn.events].filter((e) => e.name === 'exception');
    expect(exceptionEvents).toHaveLength(1);
    expect(tool.status.code).toBe(SpanStatusCode.ERROR);
    expect(turn.status.code).toBe(SpanStatusCode.ERROR);
    expect(turn.attributes[ATTR.errorType]).toBe(tool.attributes[ATTR.errorType]);
    // The turn only carries the tool's error on: the collector counts the tool's occurrence alone.
    expect(turn.attributes[ATTR.errorPropagated]).toBe(true);
    expect(tool.attributes[ATTR.errorPropagated]).toBeUndefined();
    expect(session.state).toBe('error');
  });

  it('fail() inside a tool and rethrown keeps the occurrence on that tool span, not marked propagated', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const broken = new Error('exit 2');
    await expect(
      session.turn('reply', () =>
        session.tool('bash', () => {
          session.fail(broken);
          throw broken;
        }),
      ),
    ).rejects.toBe(broken);
    const [tool] = named('execute_tool bash');
    const [turn] = named('invoke_agent coder');
    expect(tool.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    expect(tool.attributes[ATTR.errorPropagated]).toBeUndefined();
    expect(turn.attributes[ATTR.errorPropagated]).toBe(true);
  });

  it('a failing tool the agent recovers from does not fail the session', async () => {
    const { faultline } = memoryFaultline();
    const session = faultline.startSession({});
    await session.turn('reply', async () => {
      await session.tool('web_fetch', () => Promise.reject(new Error('404'))).catch(() => 'fallback');
    });
    expect(session.state).toBe('ready');
  });

  it('fail() on a stopped session keeps it stopped (t3code #1960)', () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({});
    session.status('stopped');
    session.fail(new Error('turn start failed'), { operation: 'turn_start' });
    const states = named(SPAN.status).map((s) => s.attributes[ATTR.sessionState]);
    expect(states).toEqual(['starting', 'stopped', 'stopped']);
    expect(session.state).toBe('stopped');
  });

  it('fail() with an explicit state records a non-terminal error (retrying)', () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ state: 'running' });
    session.fail(new Error('429 Too Many Requests'), { state: 'retrying' });
    expect(session.state).toBe('retrying');
    expect(named(SPAN.error)).toHaveLength(1);
  });

  it('scrubs secrets from the technical message and the stack', () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({});
    session.fail(new Error('401 invalid x-api-key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'));
    const [errorSpan] = named(SPAN.error);
    const exception = errorSpan.events.find((e) => e.name === 'exception')!;
    const text = JSON.stringify(exception.attributes) + JSON.stringify(errorSpan.status);
    expect(text).not.toContain('AbCdEfGhIjKlMnOpQrStUvWxYz0123456789');
  });
});

describe('state machine', () => {
  it('reports an illegal transition without throwing, and still emits it', () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({});
    session.end('completed');
    expect(() => session.status('running', 'late work')).not.toThrow();
    expect(faultline.stats().illegalTransitions).toBe(1);
    const last = named(SPAN.status).at(-1)!;
    expect(last.attributes[ATTR.sessionState]).toBe('running');
    expect(last.attributes['faultline.session.illegal_transition']).toBe(true);
  });

  it('counts nothing for legal transitions', () => {
    const { faultline } = memoryFaultline();
    const session = faultline.startSession({});
    session.status('ready');
    session.status('running');
    session.status('waiting_input');
    session.status('running');
    session.end();
    expect(faultline.stats().illegalTransitions).toBe(0);
  });
});

describe('heartbeat', () => {
  it('beats every interval while starting/running/retrying, with details, and stops otherwise and at end', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { faultline, named } = memoryFaultline({ heartbeatIntervalMs: 1_000 });
    const session = faultline.startSession({});
    const beats = () => named(SPAN.heartbeat).length;

    vi.advanceTimersByTime(3_500);
    expect(beats()).toBe(3);

    session.status('ready');
    vi.advanceTimersByTime(5_000);
    expect(beats()).toBe(3);

    session.status('running');
    session.heartbeat({ events_processed: 10, phase: 'tool_calls' });
    expect(beats()).toBe(4);
    vi.advanceTimersByTime(2_000);
    expect(beats()).toBe(6);
    const last = named(SPAN.heartbeat).at(-1)!;
    expect(last.attributes).toMatchObject({
      'faultline.heartbeat.events_processed': 10,
      'faultline.heartbeat.phase': 'tool_calls',
      [ATTR.sessionId]: session.id,
    });

    session.status('retrying');
    vi.advanceTimersByTime(1_000);
    expect(beats()).toBe(7);

    session.end();
    vi.advanceTimersByTime(10_000);
    expect(beats()).toBe(7);
  });

  it('stops all heartbeats at shutdown', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { faultline, named } = memoryFaultline({ heartbeatIntervalMs: 1_000 });
    faultline.startSession({ state: 'running' });
    faultline.startSession({ state: 'retrying' });
    vi.advanceTimersByTime(1_000);
    expect(named(SPAN.heartbeat)).toHaveLength(2);
    await faultline.shutdown();
    vi.advanceTimersByTime(5_000);
    expect(named(SPAN.heartbeat)).toHaveLength(2);
  });
});

/**
 * One failure, one occurrence, whatever order the runtime calls turn, tool, fail and
 * toClientError in. An occurrence is what the collector counts: a span in ERROR that is not
 * marked as carrying another span's error (`faultline.error.propagated`).
 */
describe('one failure, one occurrence', () => {
  class BadRequestError extends Error {
    override name = 'BadRequestError';
    status = 400;
    error = { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' } };
  }
  const billing = () => new BadRequestError('400 Your credit balance is too low to access the Anthropic API.');

  function counted(spans: ReturnType<typeof memoryFaultline>['spans']) {
    const all = spans();
    return {
      occurrences: all.filter((s) => s.status.code === SpanStatusCode.ERROR && s.attributes[ATTR.errorPropagated] !== true).length,
      exceptionEvents: all.flatMap((s) => s.events).filter((e) => e.name === 'exception').length,
      errorStatuses: all.filter((s) => s.name === SPAN.status && s.attributes[ATTR.sessionState] === 'error').length,
    };
  }

  it('README quick start: a turn throws, the catch calls fail()', async () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder', provider: 'anthropic' });
    const shown: unknown[] = [];
    try {
      await session.turn('answer', async () => {
        throw billing();
      });
      session.end('completed');
    } catch (err) {
      shown.push(session.fail(err));
    }
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
    expect(shown[0]).toMatchObject({ code: 'AGT-PROVIDER-BILLING', sessionId: session.id });
    expect(session.state).toBe('error');
  });

  it('a tool error escapes the turn and the catch calls fail(), then toClientError(): one occurrence, one payload', async () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const broken = billing();
    const thrown = await session.turn('reply', () => session.tool('call_model', () => Promise.reject(broken))).catch((e: unknown) => e);
    const fromFail = session.fail(thrown);
    expect(faultline.toClientError(thrown, session)).toBe(fromFail);
    expect(faultline.toClientError(thrown)).toBe(fromFail);
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
  });

  it('fail() inside the turn, rethrown, and fail() again in the catch', async () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const broken = billing();
    let inner: unknown;
    try {
      await session.turn('reply', () => {
        inner = session.fail(broken, { operation: 'turn_start' });
        throw broken;
      });
    } catch (err) {
      expect(session.fail(err)).toBe(inner);
    }
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
  });

  it('a tool error the agent caught, then judged fatal with fail() inside the turn: the status changes once', async () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder', autoStatus: false, state: 'running' });
    const broken = billing();
    await session.turn('reply', async () => {
      const caught = await session.tool('call_model', () => Promise.reject(broken)).catch((e: unknown) => e);
      expect(session.state).toBe('running'); // a tool error alone is not the session's failure
      session.fail(caught);
      session.fail(caught);
    });
    expect(session.state).toBe('error');
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
  });

  it('toClientError() first, then fail(): the payload is the same and one occurrence is recorded', () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({ provider: 'anthropic' });
    const broken = billing();
    const early = faultline.toClientError(broken, session);
    expect(counted(spans).occurrences).toBe(0);
    expect(session.fail(broken)).toEqual(early);
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
  });

  it('a thrown string is one occurrence too, and the same text failing again later is a second one', async () => {
    const { faultline, spans } = memoryFaultline();
    const session = faultline.startSession({});
    const once = async () => {
      try {
        await session.turn('reply', () => {
          throw 'model stream closed';
        });
      } catch (err) {
        session.fail(err);
      }
    };
    await once();
    expect(counted(spans)).toEqual({ occurrences: 1, exceptionEvents: 1, errorStatuses: 1 });
    await once();
    expect(counted(spans)).toEqual({ occurrences: 2, exceptionEvents: 2, errorStatuses: 2 });
  });

  it('two different errors are two occurrences; one error in two sessions is one occurrence in each', () => {
    const { faultline, spans } = memoryFaultline();
    const a = faultline.startSession({});
    const b = faultline.startSession({});
    const shared = billing();
    a.fail(shared);
    a.fail(billing());
    b.fail(shared);
    expect(counted(spans)).toEqual({ occurrences: 3, exceptionEvents: 3, errorStatuses: 3 });
    expect(a.fail(shared).sessionId).toBe(a.id);
    expect(b.toClientError(shared).sessionId).toBe(b.id);
  });
});

describe('with an OpenTelemetry context manager in the process', () => {
  afterEach(() => {
    context.disable();
  });

  it("turns and tools are the active span for the runtime's own instrumentation, and fail() inside still finds its tool", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    const seen: (string | undefined)[] = [];
    await session.turn('reply', async () => {
      seen.push(trace.getActiveSpan()?.spanContext().spanId);
      await session.tool('bash', async () => {
        await new Promise((resolve) => setTimeout(resolve, 1)); // across an async hop
        seen.push(trace.getActiveSpan()?.spanContext().spanId);
        session.fail(new Error('Command failed: npm test'));
      });
    });
    const [turn] = named('invoke_agent coder');
    const [tool] = named('execute_tool bash');
    expect(seen).toEqual([turn.spanContext().spanId, tool.spanContext().spanId]);
    expect(tool.status.code).toBe(SpanStatusCode.ERROR);
    expect(named(SPAN.error)).toHaveLength(0);
    expect(trace.getActiveSpan()).toBeUndefined(); // nothing leaks out of the callbacks
  });
});
