import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import { ATTR, SPAN, getCatalogEntry, renderUserMessage } from '@faultline/schema';
import { FaultlineTimeoutError, withTimeout } from './timeout.ts';
import { init } from './faultline.ts';
import { memoryFaultline } from './test-support.ts';

// Shapes as the real libraries throw them (Anthropic/OpenAI SDK APIError, Temporal failures,
// Node child_process, Modal), reduced to the fields they carry.
class BadRequestError extends Error {
  override name = 'BadRequestError';
  status = 400;
  requestID = 'req_011CSHxQ9f';
  error = {
    type: 'error',
    error: {
      type: 'invalid_request_error',
      message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    },
  };
  constructor() {
    super('400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}');
  }
}

class RateLimitError extends Error {
  override name = 'RateLimitError';
  status = 429;
  error = {
    message: 'You exceeded your current quota, please check your plan and billing details.',
    type: 'insufficient_quota',
    code: 'insufficient_quota',
  };
}

class InternalServerError extends Error {
  override name = 'InternalServerError';
  status = 529;
  error = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
}

class TimeoutFailure extends Error {
  override name = 'TimeoutFailure';
  constructor(
    readonly timeoutType: string,
    readonly lastHeartbeatDetails: unknown,
  ) {
    super(`Activity task timed out`);
  }
}

class ActivityFailure extends Error {
  override name = 'ActivityFailure';
  activityType = 'executeGraphton';
  retryState = 'MAXIMUM_ATTEMPTS_REACHED';
  constructor(cause: Error) {
    super('Activity task failed', { cause });
  }
}

class SandboxTimeoutError extends Error {
  override name = 'SandboxTimeoutError';
}

function spawnEnoent(): Error {
  return Object.assign(new Error('spawn claude ENOENT'), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'spawn claude',
    path: 'claude',
    spawnargs: ['-p', 'hello'],
  });
}

function failOnce(error: unknown, context = {}) {
  const { faultline, named } = memoryFaultline();
  const session = faultline.startSession({ id: 'sess-err', agent: 'coder', provider: 'anthropic', model: 'claude-sonnet-4-5' });
  const payload = session.fail(error, context);
  const [span] = named(SPAN.error);
  return { payload, span, session, faultline };
}

describe('fail() classifies realistic errors', () => {
  it('Anthropic 400 "credit balance is too low" is billing, with the upstream details on the span', () => {
    const { payload, span } = failOnce(new BadRequestError());
    expect(payload.code).toBe('AGT-PROVIDER-BILLING');
    expect(span.attributes).toMatchObject({
      [ATTR.errorType]: 'AGT-PROVIDER-BILLING',
      [ATTR.errorCategory]: 'provider',
      [ATTR.errorRetryable]: 'no',
      [ATTR.httpStatus]: 400,
      [ATTR.upstreamType]: 'invalid_request_error',
      [ATTR.upstreamRequestId]: 'req_011CSHxQ9f',
      [ATTR.genAiProvider]: 'anthropic',
      [ATTR.genAiModel]: 'claude-sonnet-4-5',
    });
    const exception = span.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.[ATTR.exceptionType]).toBe('BadRequestError');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('OpenAI 429 insufficient_quota is billing, not a rate limit', () => {
    expect(failOnce(new RateLimitError('429 You exceeded your current quota')).payload.code).toBe('AGT-PROVIDER-BILLING');
  });

  it('Anthropic 529 overloaded_error is overloaded and retryable', () => {
    const { payload } = failOnce(new InternalServerError('529 Overloaded'));
    expect(payload.code).toBe('AGT-PROVIDER-OVERLOADED');
    expect(payload.retryable).toBe('yes');
  });

  it('a Temporal HEARTBEAT timeout is a worker crash, not a generic activity timeout, and keeps the last heartbeat', () => {
    const crash = new ActivityFailure(new TimeoutFailure('HEARTBEAT', { events_processed: 10, phase: 'tools' }));
    const { payload, span } = failOnce(crash);
    expect(payload.code).toBe('AGT-TIMEOUT-HEARTBEAT');
    expect(span.attributes[ATTR.temporalTimeoutType]).toBe('HEARTBEAT');
    expect(span.attributes[ATTR.timeoutKind]).toBe('heartbeat');
    expect(JSON.parse(String(span.attributes['faultline.temporal.last_heartbeat_details']))).toEqual({
      events_processed: 10,
      phase: 'tools',
    });
  });

  it('keeps the cause of a wrapped failure in the technical message, so support sees what really failed', () => {
    class ApplicationFailure extends Error {
      override name = 'ApplicationFailure';
      type = 'ValueError';
    }
    const { span } = failOnce(new ActivityFailure(new ApplicationFailure('test error')));
    const exception = span.events.find((e) => e.name === 'exception')!;
    expect(String(exception.attributes!['exception.message'])).toBe('Activity task failed ← caused by ApplicationFailure: test error');
  });

  it('a CLI that is not installed (spawn ENOENT) is AGT-CLI-NOT-FOUND', () => {
    const { payload, span } = failOnce(spawnEnoent());
    expect(payload.code).toBe('AGT-CLI-NOT-FOUND');
    expect(span.attributes[ATTR.errno]).toBe('ENOENT');
  });

  it('a Modal SandboxTimeoutError is a sandbox timeout', () => {
    const { payload, span } = failOnce(new SandboxTimeoutError('Sandbox timed out after 300s'));
    expect(payload.code).toBe('AGT-SANDBOX-TIMEOUT');
    expect(span.attributes[ATTR.timeoutKind]).toBe('sandbox');
  });

  it('a missing Modal context while creating the sandbox is a configuration error (seed 000)', () => {
    const { payload } = failOnce(new Error('Modal context is required'), { operation: 'sandbox_create' });
    expect(payload.code).toBe('AGT-SANDBOX-CONFIG-MISSING');
  });

  it('an explicit code from the runtime wins over classification', () => {
    const { payload, span } = failOnce(new Error('cannot switch models after the conversation has started'), {
      code: 'AGT-SESSION-TURN-START-FAILED',
    });
    expect(payload.code).toBe('AGT-SESSION-TURN-START-FAILED');
    expect(span.attributes[ATTR.errorType]).toBe('AGT-SESSION-TURN-START-FAILED');
  });

  it('something unrecognisable becomes the neutral unknown code, never a throw', () => {
    const { payload } = failOnce({ weird: true, toString: undefined });
    expect(payload.code).toBe('AGT-WORKER-UNKNOWN');
  });

  it('the runtime’s own TypeError names no provider in the payload, even in a session with one', () => {
    const { faultline } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    const payload = session.fail(new TypeError("Cannot read properties of undefined (reading 'content')"));
    expect(payload).toMatchObject({ code: 'AGT-WORKER-UNKNOWN', message: 'Something went wrong while the agent was working.' });
    expect(JSON.stringify(payload)).not.toMatch(/anthropic|provider/i);
  });

  it('records the classifier’s rule and signal on the error span, so the collector can show why', () => {
    const { span } = failOnce(Object.assign(new Error('Your credit balance is too low to access the Anthropic API.'), { status: 400 }));
    expect(span.attributes[ATTR.classifierRule]).toBe('billing-text');
    expect(span.attributes[ATTR.classifierSignal]).toBe('message~"credit balance is too low"');
  });

  it('a withTimeout expiry carries its kind and code (cli_exec)', async () => {
    const { faultline, named } = memoryFaultline();
    const session = faultline.startSession({ agent: 'coder' });
    let aborted = false;
    await expect(
      session.turn('reply', () =>
        session.tool('claude_exec', () =>
          withTimeout('cli_exec', 20, (signal) => {
            signal.addEventListener('abort', () => (aborted = true));
            return new Promise(() => {});
          }),
        ),
      ),
    ).rejects.toBeInstanceOf(FaultlineTimeoutError);
    expect(aborted).toBe(true);
    const [tool] = named('execute_tool claude_exec');
    expect(tool.attributes[ATTR.errorType]).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(tool.attributes[ATTR.timeoutKind]).toBe('cli_exec');
  });
});

describe('toClientError', () => {
  it('gives the catalog title and words with provider and model, ids for support, and no stack trace', () => {
    const { faultline } = memoryFaultline();
    const session = faultline.startSession({ id: 'sess-client', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    const error = new BadRequestError();
    const payload = faultline.toClientError(error, session);

    const entry = getCatalogEntry('AGT-PROVIDER-BILLING')!;
    expect(payload).toEqual({
      code: 'AGT-PROVIDER-BILLING',
      title: entry.title,
      message: renderUserMessage(entry, { provider: 'anthropic', model: 'claude-sonnet-4-5' }),
      retryable: 'no',
      sessionId: 'sess-client',
      traceId: session.traceId,
    });
    expect(payload.traceId).toMatch(/^[0-9a-f]{32}$/);
    const text = JSON.stringify(payload);
    expect(text).not.toContain('credit balance is too low to access');
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('returns the same payload fail() returned for that error', () => {
    const { faultline } = memoryFaultline();
    const session = faultline.startSession({});
    const error = spawnEnoent();
    const fromFail = session.fail(error);
    expect(faultline.toClientError(error)).toEqual(fromFail);
  });

  it('works without a session and for non-Error values', () => {
    const { faultline } = memoryFaultline();
    const payload = faultline.toClientError('stream disconnected before completion');
    expect(payload.sessionId).toBeNull();
    expect(payload.traceId).toBeNull();
    expect(getCatalogEntry(payload.code)).toBeDefined();
  });
});

describe('secrets never leave the process', () => {
  it('the SDK exporter scrubs exception messages, stacks and status messages that fail() left for it', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'faultline-scrub-test-'));
    const exported = new InMemorySpanExporter();
    const faultline = init({ serviceName: 'scrub-test', exporter: exported, spoolDir, heartbeatIntervalMs: 0, shutdownTimeoutMs: 100 });
    try {
      const session = faultline.startSession({});
      const key = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
      // Same call site twice: the second stack's frames come from the scrubber's cache.
      const make = (n: number) => new Error(`401 invalid x-api-key ${key} (attempt ${n})`);
      session.fail(make(1));
      session.fail(make(2));
      await faultline.flush();
      const errorSpans = exported.getFinishedSpans().filter((s) => s.name === SPAN.error);
      expect(errorSpans).toHaveLength(2);
      for (const span of errorSpans) {
        const exception = span.events.find((e) => e.name === 'exception')!;
        const text = JSON.stringify(exception.attributes) + JSON.stringify(span.status);
        expect(text).not.toContain('AbCdEfGhIjKlMnOpQrStUvWxYz0123456789');
        expect(String(exception.attributes![ATTR.exceptionStacktrace])).toContain('errors.test.ts');
        expect(String(exception.attributes![ATTR.exceptionMessage])).toMatch(/^401 invalid x-api-key \[REDACTED\] \(attempt \d\)$/);
      }

      // A secret in the frames themselves (code loaded from a URL with a key in it), twice from
      // the same call site: the second stack's frames come from the cache, scrubbed as well.
      const loaded = new Function('n', 'return new Error("tool failed " + n)\n//# sourceURL=https://cdn.example.com/agent.js?api_key=abcd1234efgh5678ijkl');
      exported.reset();
      session.fail(loaded(1));
      session.fail(loaded(2));
      await faultline.flush();
      const stacks = exported.getFinishedSpans().flatMap((s) => s.events).map((e) => String(e.attributes?.[ATTR.exceptionStacktrace]));
      expect(stacks).toHaveLength(2);
      for (const stack of stacks) {
        expect(stack).toContain('agent.js?api_key=[REDACTED]');
        expect(stack).not.toContain('abcd1234efgh5678ijkl');
      }
    } finally {
      await faultline.shutdown();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
