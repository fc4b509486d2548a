import safeRegex from 'safe-regex2';
import { describe, expect, it } from 'vitest';
import { CATALOG, NOT_SURFACED_CODE, STUCK_CODE, UNKNOWN_CODE } from './catalog.ts';
import { CLASSIFIER_REGEXES, classifierInputFromError, classify } from './classifier.ts';
import type { ClassifierInput } from './classifier-types.ts';

// ── Realistic stand-ins for the errors real SDKs throw (shapes only; their packages are not used) ──

/** @anthropic-ai/sdk APIError: status, headers, error = the response body, message "<status> <json>". */
class AnthropicAPIError extends Error {
  readonly status: number;
  readonly error: unknown;
  readonly headers: Record<string, string>;
  readonly request_id = 'req_011CSHoEeqs5C35K2UUqR7Fy';
  constructor(name: string, status: number, type: string, message: string) {
    const body = { type: 'error', error: { type, message } };
    super(`${status} ${JSON.stringify(body)}`);
    this.name = name;
    this.status = status;
    this.error = body;
    this.headers = { 'request-id': this.request_id };
  }
}

/** openai APIError: status, error = body.error, code, type, param. */
class OpenAIAPIError extends Error {
  readonly error: { message: string; type: string; param: null; code: string | null };
  readonly code: string | null;
  readonly type: string;
  constructor(
    name: string,
    readonly status: number,
    type: string,
    code: string | null,
    message: string,
  ) {
    super(`${status} ${message}`);
    this.name = name;
    this.error = { message, type, param: null, code };
    this.code = code;
    this.type = type;
  }
}

/** @temporalio/common failures. */
class TemporalFailure extends Error {
  constructor(name: string, message: string, props: Record<string, unknown> = {}) {
    super(message);
    this.name = name;
    Object.assign(this, props);
  }
}
const timeoutFailure = (timeoutType: unknown, lastHeartbeatDetails?: unknown) =>
  new TemporalFailure('TimeoutFailure', `Activity task timed out`, { timeoutType, lastHeartbeatDetails });
const activityFailure = (cause: Error) =>
  new TemporalFailure('ActivityFailure', 'Activity task failed', {
    activityType: 'ExecuteGraphton',
    activityId: '1',
    retryState: 'MAXIMUM_ATTEMPTS_REACHED',
    cause,
  });

/** Modal client errors are plain Error subclasses told apart by class name. */
class SandboxTimeoutError extends Error {
  override name = 'SandboxTimeoutError';
}
class AuthError extends Error {
  override name = 'AuthError';
}

/** Node's spawn failure when the binary is missing. */
function spawnEnoent(bin: string): Error {
  return Object.assign(new Error(`spawn ${bin} ENOENT`), {
    errno: -2,
    code: 'ENOENT',
    syscall: `spawn ${bin}`,
    path: bin,
    spawnargs: ['-p', '--output-format', 'json'],
  });
}

/** openclaw FailoverError. */
function failoverError(reason: string, status?: number): Error {
  return Object.assign(new Error(`LLM request failed (${reason})`), {
    name: 'FailoverError',
    reason,
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    status,
  });
}

const code = (input: ClassifierInput) => classify(input).code;

// ── one test per rule ─────────────────────────────────────────────────────────────────────────

describe('provider errors: overrides beat the status', () => {
  it('Anthropic 400 invalid_request_error with the credit-balance text is billing, not a bad request', () => {
    const error = new AnthropicAPIError(
      'BadRequestError',
      400,
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    );
    expect(classify({ error })).toMatchObject({ code: 'AGT-PROVIDER-BILLING', rule: 'billing-text' });
    // The same facts as a span carries them at the collector.
    expect(
      code({
        httpStatus: 400,
        upstreamType: 'invalid_request_error',
        message: 'Your credit balance is too low to access the Anthropic API.',
      }),
    ).toBe('AGT-PROVIDER-BILLING');
  });

  it('OpenAI 429 insufficient_quota is billing, not a rate limit', () => {
    const error = new OpenAIAPIError(
      'RateLimitError',
      429,
      'insufficient_quota',
      'insufficient_quota',
      'You exceeded your current quota, please check your plan and billing details.',
    );
    expect(classify({ error })).toMatchObject({ code: 'AGT-PROVIDER-BILLING', rule: 'billing-code' });
  });

  it('Anthropic 429 with details.error_code enforced_spend_limit_reached is billing', () => {
    const error = Object.assign(new Error('429 spend limit'), {
      status: 429,
      error: { type: 'error', error: { type: 'rate_limit_error', message: 'Request blocked', details: { error_code: 'enforced_spend_limit_reached' } } },
    });
    expect(code({ error })).toBe('AGT-PROVIDER-BILLING');
  });

  it('429 rate_limit_error stays a rate limit', () => {
    const error = new AnthropicAPIError(
      'RateLimitError',
      429,
      'rate_limit_error',
      'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits)',
    );
    expect(classify({ error })).toMatchObject({ code: 'AGT-PROVIDER-RATE-LIMIT', rule: 'http-status' });
  });

  it('529 overloaded_error is overloaded', () => {
    const error = new AnthropicAPIError('InternalServerError', 529, 'overloaded_error', 'Overloaded');
    expect(classify({ error })).toMatchObject({ code: 'AGT-PROVIDER-OVERLOADED', rule: 'overloaded-529' });
    expect(code({ httpStatus: 529 })).toBe('AGT-PROVIDER-OVERLOADED');
  });

  it('OpenAI 400 context_length_exceeded is a context overflow, not a bad request', () => {
    const error = new OpenAIAPIError(
      'BadRequestError',
      400,
      'invalid_request_error',
      'context_length_exceeded',
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 131234 tokens.",
    );
    expect(code({ error })).toBe('AGT-PROVIDER-CONTEXT-OVERFLOW');
  });

  it('Codex "ran out of room in the model\'s context window" is a context overflow', () => {
    expect(
      code({ message: "Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying." }),
    ).toBe('AGT-PROVIDER-CONTEXT-OVERFLOW');
  });
});

describe('provider errors: status, type, errno, patterns', () => {
  it.each([
    [401, 'AGT-PROVIDER-AUTH'],
    [402, 'AGT-PROVIDER-BILLING'],
    [403, 'AGT-PROVIDER-AUTH-PERMANENT'],
    [404, 'AGT-PROVIDER-MODEL-NOT-FOUND'],
    [408, 'AGT-PROVIDER-TIMEOUT'],
    [410, 'AGT-PROVIDER-SESSION-EXPIRED'],
    [413, 'AGT-PROVIDER-CONTEXT-OVERFLOW'],
    [500, 'AGT-PROVIDER-SERVER-ERROR'],
    [502, 'AGT-PROVIDER-SERVER-ERROR'],
    [503, 'AGT-PROVIDER-OVERLOADED'],
  ])('HTTP %i alone maps to %s', (httpStatus, expected) => {
    expect(classify({ httpStatus, message: 'request failed' })).toMatchObject({ code: expected, rule: 'http-status' });
  });

  it('a plain 400 invalid_request_error about tool ids is a format error', () => {
    const error = new AnthropicAPIError(
      'BadRequestError',
      400,
      'invalid_request_error',
      'messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A09q90qw90lq917835lq9',
    );
    expect(code({ error })).toBe('AGT-PROVIDER-FORMAT');
  });

  it('the provider error type decides when there is no status (errors inside a 200 SSE stream)', () => {
    expect(classify({ upstreamType: 'overloaded_error', message: 'Overloaded' }).code).toBe('AGT-PROVIDER-OVERLOADED');
    expect(classify({ upstreamType: 'authentication_error', message: 'Authentication failed' })).toMatchObject({
      code: 'AGT-PROVIDER-AUTH',
      rule: 'upstream-type',
      signal: 'provider error type="authentication_error"',
    });
    expect(code({ upstreamType: 'api_error', message: 'Internal server error' })).toBe('AGT-PROVIDER-SERVER-ERROR');
  });

  it('ECONNRESET from fetch is a provider timeout on a model call, and nobody’s fault without one', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { errno: -104, code: 'ECONNRESET', syscall: 'read' }),
    });
    expect(classify({ error, spanName: 'chat claude-sonnet-4-5', providerName: 'anthropic', spanKind: 'client' })).toMatchObject({
      code: 'AGT-PROVIDER-TIMEOUT',
      rule: 'network-provider',
    });
    expect(classify({ error })).toMatchObject({ code: UNKNOWN_CODE, rule: 'network-no-provider', signal: 'errno="ECONNRESET"' });
  });

  it('Codex "stream disconnected before completion" is a provider timeout', () => {
    expect(
      code({ message: 'stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses); retrying 2/5 in 403ms…' }),
    ).toBe('AGT-PROVIDER-TIMEOUT');
  });

  it('AbortSignal.timeout() is a provider timeout on a model call, a user abort is a cancellation', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(code({ error: timeout, genAiOperation: 'chat' })).toBe('AGT-PROVIDER-TIMEOUT');
    expect(classify({ error: timeout })).toMatchObject({ code: UNKNOWN_CODE, rule: 'timeout-no-provider' });
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(code({ error: abort })).toBe('AGT-SESSION-CANCELLED');
  });

  it('the provider message patterns work on bare messages', () => {
    expect(code({ message: 'API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}' })).toBe(
      'AGT-PROVIDER-AUTH',
    );
    expect(code({ message: '⚠️ API rate limit reached. Please try again later.' })).toBe('AGT-PROVIDER-RATE-LIMIT');
    expect(code({ message: 'The AI service is temporarily overloaded. Please try again in a moment.' })).toBe('AGT-PROVIDER-OVERLOADED');
    expect(code({ message: 'The model `gpt-4-turbo-2099` does not exist or you do not have access to it.' })).toBe(
      'AGT-PROVIDER-MODEL-NOT-FOUND',
    );
  });

  it('an error wrapping a provider error is classified by its cause', () => {
    const cause = new AnthropicAPIError('BadRequestError', 400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API.');
    const error = new Error('Turn failed', { cause });
    expect(code({ error })).toBe('AGT-PROVIDER-BILLING');
  });
});

describe('openclaw FailoverError', () => {
  it.each([
    ['billing', 402, 'AGT-PROVIDER-BILLING'],
    ['auth', 401, 'AGT-PROVIDER-AUTH'],
    ['auth_permanent', 403, 'AGT-PROVIDER-AUTH-PERMANENT'],
    ['rate_limit', 429, 'AGT-PROVIDER-RATE-LIMIT'],
    // openclaw normalises overloaded to 503; the reason, not the status, decides.
    ['overloaded', 503, 'AGT-PROVIDER-OVERLOADED'],
    ['server_error', 500, 'AGT-PROVIDER-SERVER-ERROR'],
    ['timeout', 408, 'AGT-PROVIDER-TIMEOUT'],
    ['format', 400, 'AGT-PROVIDER-FORMAT'],
    ['context_overflow', undefined, 'AGT-PROVIDER-CONTEXT-OVERFLOW'],
    ['model_not_found', 404, 'AGT-PROVIDER-MODEL-NOT-FOUND'],
    ['session_expired', 410, 'AGT-PROVIDER-SESSION-EXPIRED'],
    ['empty_response', undefined, 'AGT-PROVIDER-EMPTY-RESPONSE'],
    ['no_error_details', undefined, 'AGT-PROVIDER-EMPTY-RESPONSE'],
  ])('reason %s → %s', (reason, status, expected) => {
    expect(classify({ error: failoverError(reason, status) })).toMatchObject({ code: expected, rule: 'failover-reason' });
  });

  it('reason "unknown" falls through to the provider-unknown code: a FailoverError is a provider call', () => {
    expect(classify({ error: failoverError('unknown') })).toMatchObject({ code: 'AGT-PROVIDER-UNKNOWN', rule: 'provider-unknown' });
  });

  it('the "All models failed" summary is failover exhaustion', () => {
    expect(
      code({ message: 'All models failed (2): anthropic/claude-sonnet-4-5: Provider anthropic is in cooldown (rate_limit) | openai/gpt-5: LLM request timed out. (timeout)' }),
    ).toBe('AGT-PROVIDER-FAILOVER-EXHAUSTED');
  });
});

describe('Temporal failures', () => {
  it('a HEARTBEAT TimeoutFailure inside an ActivityFailure is a heartbeat timeout', () => {
    const error = activityFailure(timeoutFailure('HEARTBEAT', [{ events_processed: 10, phase: 'tools' }]));
    expect(classify({ error })).toMatchObject({ code: 'AGT-TIMEOUT-HEARTBEAT', rule: 'temporal-timeout' });
  });

  it('SCHEDULE_TO_START (the worker that never came up) is not a generic timeout', () => {
    expect(code({ error: activityFailure(timeoutFailure('SCHEDULE_TO_START')) })).toBe('AGT-TIMEOUT-SCHEDULE-TO-START');
  });

  it('START_TO_CLOSE and SCHEDULE_TO_CLOSE are the run time limit', () => {
    expect(code({ error: activityFailure(timeoutFailure('START_TO_CLOSE')) })).toBe('AGT-TIMEOUT-START-TO-CLOSE');
    expect(code({ error: activityFailure(timeoutFailure('SCHEDULE_TO_CLOSE')) })).toBe('AGT-TIMEOUT-START-TO-CLOSE');
  });

  it('reads proto numbers and TIMEOUT_TYPE_ names as the SDK and the API give them', () => {
    expect(code({ error: timeoutFailure(4) })).toBe('AGT-TIMEOUT-HEARTBEAT');
    expect(code({ error: timeoutFailure(2) })).toBe('AGT-TIMEOUT-SCHEDULE-TO-START');
    expect(code({ temporalTimeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE' })).toBe('AGT-TIMEOUT-START-TO-CLOSE');
  });

  it('an ApplicationFailure is a worker execution failure, its failure type kept in the message', () => {
    const error = activityFailure(
      new TemporalFailure('ApplicationFailure', 'test error', { type: 'ValueError', nonRetryable: false }),
    );
    expect(classify({ error })).toMatchObject({ code: 'AGT-WORKER-EXECUTION-FAILED', rule: 'application-failure' });
    expect(classifierInputFromError(error)).toMatchObject({ exceptionType: 'ApplicationFailure', message: 'ValueError: test error' });
  });

  it('an ApplicationFailure from initialisation is an init failure', () => {
    const error = new TemporalFailure('ApplicationFailure', 'could not fetch agent config', { type: 'AgentInitError' });
    expect(code({ error })).toBe('AGT-WORKER-INIT-FAILED');
  });

  it('CancelledFailure is a cancellation', () => {
    expect(code({ error: new TemporalFailure('CancelledFailure', 'Activity cancelled') })).toBe('AGT-SESSION-CANCELLED');
  });
});

describe('sandbox errors', () => {
  it('"Modal context is required" is missing sandbox configuration', () => {
    expect(classify({ error: new Error('Modal context is required') })).toMatchObject({
      code: 'AGT-SANDBOX-CONFIG-MISSING',
      rule: 'modal-context-required',
    });
  });

  it('exit 137 we did not ask for is out of memory; after our own terminate() it is a termination', () => {
    expect(classify({ sandboxExitCode: 137 })).toMatchObject({ code: 'AGT-SANDBOX-OOM', rule: 'sandbox-exit-137-oom' });
    expect(classify({ sandboxExitCode: 137, terminationRequested: false }).code).toBe('AGT-SANDBOX-OOM');
    expect(classify({ sandboxExitCode: 137, terminationRequested: true }).code).toBe('AGT-SANDBOX-TERMINATED');
    expect(code({ cliExitCode: 137 })).toBe('AGT-SANDBOX-OOM');
    expect(code({ cliExitCode: 137, terminationRequested: true })).toBe('AGT-SANDBOX-TERMINATED');
  });

  it('Modal error classes map by name', () => {
    expect(code({ error: new SandboxTimeoutError('Sandbox sb-abc123 exceeded its timeout of 300s') })).toBe('AGT-SANDBOX-TIMEOUT');
    expect(code({ error: new AuthError('Token ID is malformed') })).toBe('AGT-SANDBOX-CREATE-FAILED');
    expect(code({ sandboxErrorClass: 'InvalidError', operation: 'sandbox_exec', message: 'ARG_MAX exceeded' })).toBe(
      'AGT-SANDBOX-EXEC-FAILED',
    );
    expect(code({ exceptionType: 'SandboxTerminatedError', message: 'Sandbox terminated' })).toBe('AGT-SANDBOX-TERMINATED');
  });

  it('a provider NotFoundError (it has a status) is not mistaken for a Modal one', () => {
    const error = new AnthropicAPIError('NotFoundError', 404, 'not_found_error', 'model: claude-3-opus-20990101');
    expect(code({ error })).toBe('AGT-PROVIDER-MODEL-NOT-FOUND');
  });

  it('any failure during sandbox creation is a create failure, even with an HTTP-looking status', () => {
    expect(code({ operation: 'sandbox_create', httpStatus: 500, message: 'Image build for im-F0oBaR12 failed' })).toBe(
      'AGT-SANDBOX-CREATE-FAILED',
    );
  });
});

describe('CLI agents', () => {
  it('`spawn claude ENOENT` is a missing CLI', () => {
    expect(classify({ error: spawnEnoent('claude') })).toMatchObject({ code: 'AGT-CLI-NOT-FOUND', rule: 'cli-spawn-enoent' });
    expect(code({ message: 'codex CLI not found in PATH' })).toBe('AGT-CLI-NOT-FOUND');
  });

  it('a missing file that is not a spawn is not a missing CLI', () => {
    const error = Object.assign(new Error("ENOENT: no such file or directory, open '/work/x.json'"), {
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(code({ error })).not.toBe('AGT-CLI-NOT-FOUND');
  });

  it('"exec timed out", exit 124 and a timed-out child are the CLI exec timeout', () => {
    expect(code({ message: 'claude exec timed out' })).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(code({ cliExitCode: 124 })).toBe('AGT-TIMEOUT-CLI-EXEC');
    expect(code({ error: Object.assign(new Error('Command timed out after 300000 milliseconds: claude -p'), { timedOut: true, signal: 'SIGTERM' }) })).toBe(
      'AGT-TIMEOUT-CLI-EXEC',
    );
  });

  it('Copilot "No authentication information found" needs a CLI login', () => {
    expect(
      code({
        cliExitCode: 1,
        stderrTail:
          'Error: No authentication information found. Copilot can be authenticated with GitHub using an OAuth Token or a Fine-Grained Personal Access Token. To authenticate, you can set COPILOT_GITHUB_TOKEN, GH_TOKEN, or GITHUB_TOKEN.',
      }),
    ).toBe('AGT-CLI-AUTH-REQUIRED');
  });

  it('Claude "OAuth token has expired… Please run /login" on stderr is a CLI login, not a provider key problem', () => {
    const result = { exitCode: 1, signal: null, stderr: 'API Error: 401 {"type":"error","error":{"type":"authentication_error","message":"OAuth token has expired. Please obtain a new token or refresh your existing token."}} · Please run /login' };
    expect(classify({ error: result })).toMatchObject({ code: 'AGT-CLI-AUTH-REQUIRED', rule: 'cli-auth-text' });
  });

  it('Gemini CLI exit codes carry their documented meaning', () => {
    expect(code({ cliExitCode: 41 })).toBe('AGT-CLI-AUTH-REQUIRED');
    expect(code({ cliExitCode: 42 })).toBe('AGT-CLI-NONZERO-EXIT');
    expect(code({ cliExitCode: 44 })).toBe('AGT-SANDBOX-CREATE-FAILED');
    expect(code({ cliExitCode: 52 })).toBe('AGT-CLI-NONZERO-EXIT');
    expect(code({ cliExitCode: 53 })).toBe('AGT-CLI-TURN-LIMIT');
    expect(code({ cliExitCode: 54 })).toBe('AGT-TOOL-FAILED');
    expect(code({ cliExitCode: 130 })).toBe('AGT-SESSION-CANCELLED');
  });

  it('a generic non-zero exit reads the stderr tail with the provider rules first', () => {
    expect(code({ cliExitCode: 1, stderrTail: 'Claude AI usage limit reached|1760000000' })).toBe('AGT-PROVIDER-RATE-LIMIT');
    expect(code({ cliExitCode: 1, stderrTail: 'Credit balance is too low' })).toBe('AGT-PROVIDER-BILLING');
    expect(classify({ cliExitCode: 2, stderrTail: 'panic: something odd' })).toMatchObject({ code: 'AGT-CLI-NONZERO-EXIT', rule: 'cli-exit-nonzero' });
  });

  it('a Node exec failure carries its exit code in `code`', () => {
    const error = Object.assign(new Error('Command failed: gemini -p hi'), { code: 53, killed: false, signal: null, cmd: 'gemini -p hi' });
    expect(code({ error })).toBe('AGT-CLI-TURN-LIMIT');
  });

  it('Claude result subtypes', () => {
    expect(code({ error: { type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 10 } })).toBe('AGT-CLI-TURN-LIMIT');
    expect(code({ error: { type: 'result', subtype: 'error_during_execution', is_error: true } })).toBe('AGT-CLI-NONZERO-EXIT');
  });

  it('an unrequested signal means the agent process died', () => {
    expect(code({ cliSignal: 'SIGSEGV' })).toBe('AGT-SESSION-PROVIDER-EXITED');
    expect(code({ cliSignal: 'SIGKILL' })).toBe('AGT-SANDBOX-OOM');
  });
});

describe('session, worker, tool and delivery strings from the seeds', () => {
  it.each([
    ['Cannot switch models after the conversation has started.', 'AGT-SESSION-PROVIDER-MISMATCH'],
    ["Thread is bound to driver 'codex' and cannot switch to 'claudeAgent'.", 'AGT-SESSION-PROVIDER-MISMATCH'],
    ["Thread references unknown provider instance 'codex-2'.", 'AGT-SESSION-PROVIDER-MISMATCH'],
    ['Stale pending approval request: req-42. Restart the turn to continue.', 'AGT-SESSION-STALE-REQUEST'],
    ['session file locked (timeout 10000ms): pid=4242 /home/u/.openclaw/sessions/abc.jsonl.lock', 'AGT-WORKER-LOCAL-COORDINATION'],
    ['STARTUP FAILURE: ImportError: cannot import name "Graphton" from "graphton"', 'AGT-WORKER-STARTUP-FAILED'],
    ["ModuleNotFoundError: No module named 'langgraph'", 'AGT-WORKER-STARTUP-FAILED'],
    ['System error: failed to fetch agent config: connection refused', 'AGT-WORKER-INIT-FAILED'],
    ['Execution failed: KeyError: messages', 'AGT-WORKER-EXECUTION-FAILED'],
    ['Permission denied and could not request permission from user', 'AGT-TOOL-DENIED'],
    ['Failed to update status after system error: connection closed', 'AGT-DELIVERY-PERSIST-FAILED'],
  ])('%s → %s', (message, expected) => {
    expect(code({ message })).toBe(expected);
  });

  it('a stigmer "Execution failed:" wrapping a provider error keeps the provider code', () => {
    expect(code({ message: 'Execution failed: Error code: 429 - rate_limit_error' })).toBe('AGT-PROVIDER-RATE-LIMIT');
  });

  it('the openclaw lock error class is local coordination even with a bland message', () => {
    expect(code({ error: Object.assign(new Error('busy'), { name: 'SessionWriteLockTimeoutError', code: 'OPENCLAW_SESSION_WRITE_LOCK_TIMEOUT' }) })).toBe(
      'AGT-WORKER-LOCAL-COORDINATION',
    );
  });

  it('a tool span that fails generically is a tool failure, even when its HTTP call said 404', () => {
    expect(classify({ isTool: true, message: 'web_fetch failed: Web fetch failed (404)', httpStatus: 404 })).toMatchObject({
      code: 'AGT-TOOL-FAILED',
      rule: 'tool-span',
    });
    expect(code({ isTool: true, message: 'Permission denied and could not request permission' })).toBe('AGT-TOOL-DENIED');
  });

  it('the operation names the layer when the error itself says nothing', () => {
    expect(code({ operation: 'turn_start', message: 'adapter threw' })).toBe('AGT-SESSION-TURN-START-FAILED');
    expect(code({ operation: 'interrupt', message: 'rpc failed' })).toBe('AGT-SESSION-INTERRUPT-FAILED');
    expect(code({ operation: 'persist', message: 'SQLITE_BUSY: database is locked' })).toBe('AGT-DELIVERY-PERSIST-FAILED');
    expect(code({ operation: 'client_stream', message: 'socket closed' })).toBe('AGT-DELIVERY-STREAM-DISCONNECTED');
    // A provider's response stream is not the client connection, and without a model call in
    // evidence it is not the provider's either.
    expect(code({ operation: 'stream', message: 'stream closed' })).toBe(UNKNOWN_CODE);
    expect(code({ operation: 'stream', message: 'stream closed', serverAddress: 'api.openai.com' })).toBe('AGT-PROVIDER-TIMEOUT');
  });
});

describe('explicit codes and garbage', () => {
  it('an explicit known code wins over everything else', () => {
    expect(classify({ code: 'AGT-SESSION-STUCK', httpStatus: 429 })).toMatchObject({ code: 'AGT-SESSION-STUCK', rule: 'explicit-code' });
    expect(code({ error: Object.assign(new Error('x'), { faultlineCode: 'AGT-TOOL-DENIED' }) })).toBe('AGT-TOOL-DENIED');
  });

  it('a foreign error.type is reclassified instead of trusted', () => {
    expect(code({ code: 'java.net.SocketTimeoutException', httpStatus: 429 })).toBe('AGT-PROVIDER-RATE-LIMIT');
    expect(code({ code: 'AGT-PROVIDER-UNKNOWN', httpStatus: 429 })).toBe('AGT-PROVIDER-RATE-LIMIT');
  });

  it('explicit input fields win over what is read from the error', () => {
    expect(code({ error: new Error('something'), httpStatus: 402 })).toBe('AGT-PROVIDER-BILLING');
  });

  const circular: Record<string, unknown> = { message: 'loop' };
  circular.cause = circular;
  const hostile = {
    get message(): string {
      throw new Error('getter exploded');
    },
    get name(): string {
      throw new Error('getter exploded');
    },
  };
  const hostileInput = {
    get httpStatus(): number {
      throw new Error('getter exploded');
    },
  } as ClassifierInput;

  it.each([
    ['null', null],
    ['a number', 42],
    ['an empty object', {}],
    ['a string', 'something broke'],
    ['a circular object', circular],
    ['an object whose getters throw', hostile],
    ['a symbol', Symbol('x')],
  ])('an error that is %s is unknown, never a throw', (_label, error) => {
    expect(() => classify({ error })).not.toThrow();
    expect(code({ error })).toBe(UNKNOWN_CODE);
    expect(() => classifierInputFromError(error)).not.toThrow();
  });

  it('a hostile or missing input is unknown, never a throw', () => {
    expect(code(hostileInput)).toBe(UNKNOWN_CODE);
    expect(code(null as unknown as ClassifierInput)).toBe(UNKNOWN_CODE);
    expect(code({})).toBe(UNKNOWN_CODE);
    expect(code({ httpStatus: 'NaN' as unknown as number, exceptionType: 'constructor', sandboxErrorClass: 'toString' })).toBe(UNKNOWN_CODE);
  });
});

// ── every code is reachable from a realistic input ────────────────────────────────────────────

/** Codes the collector records itself; they arrive only as explicit codes. */
const COLLECTOR_ONLY = new Set([STUCK_CODE, NOT_SURFACED_CODE]);

const REACHABLE: Record<string, ClassifierInput> = {
  'AGT-PROVIDER-AUTH': { error: new AnthropicAPIError('AuthenticationError', 401, 'authentication_error', 'invalid x-api-key') },
  'AGT-PROVIDER-AUTH-PERMANENT': {
    error: new AnthropicAPIError('PermissionDeniedError', 403, 'permission_error', 'Your API key does not have permission to use the specified resource.'),
  },
  'AGT-PROVIDER-BILLING': {
    error: new AnthropicAPIError('BadRequestError', 400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API.'),
  },
  'AGT-PROVIDER-RATE-LIMIT': { httpStatus: 429, upstreamType: 'rate_limit_error', message: 'Rate limit reached for gpt-4.1-mini in organization org_test on requests per min.' },
  'AGT-PROVIDER-OVERLOADED': { httpStatus: 529, upstreamType: 'overloaded_error', message: 'Overloaded' },
  'AGT-PROVIDER-SERVER-ERROR': { error: new AnthropicAPIError('InternalServerError', 500, 'api_error', 'Internal server error') },
  'AGT-PROVIDER-TIMEOUT': { errno: 'ETIMEDOUT', message: 'connect ETIMEDOUT 104.18.32.7:443', serverAddress: 'api.anthropic.com' },
  'AGT-PROVIDER-FORMAT': { httpStatus: 400, upstreamType: 'invalid_request_error', message: 'messages: final assistant content must end with a user message' },
  'AGT-PROVIDER-CONTEXT-OVERFLOW': { httpStatus: 400, message: 'prompt is too long: 215000 tokens > 200000 maximum' },
  'AGT-PROVIDER-MODEL-NOT-FOUND': { httpStatus: 404, upstreamCode: 'model_not_found', message: 'The model `gpt-5-pro-max` does not exist' },
  'AGT-PROVIDER-SESSION-EXPIRED': { cliExitCode: 1, stderrTail: 'No conversation found with session ID: 2c4c1a52-0d7e-4b8e-9a51-6d7f1e0c3b11' },
  'AGT-PROVIDER-EMPTY-RESPONSE': { message: 'The model returned an empty response (stopReason: error)' },
  'AGT-PROVIDER-FAILOVER-EXHAUSTED': {
    message: 'All models failed (1): custom-customb5/deepseek-v4-pro: Provider custom-customb5 is in cooldown (suspending lanes) (timeout).',
  },
  'AGT-PROVIDER-UNKNOWN': { message: 'stop_reason=refusal with no content blocks', spanName: 'chat claude-sonnet-4-5', providerName: 'anthropic' },
  'AGT-WORKER-UNKNOWN': { exceptionType: 'TypeError', message: "Cannot read properties of undefined (reading 'content')" },
  'AGT-TIMEOUT-SCHEDULE-TO-START': { error: activityFailure(timeoutFailure('SCHEDULE_TO_START')) },
  'AGT-TIMEOUT-HEARTBEAT': { error: activityFailure(timeoutFailure('HEARTBEAT')) },
  'AGT-TIMEOUT-START-TO-CLOSE': { temporalTimeoutType: 'START_TO_CLOSE' },
  'AGT-TIMEOUT-TURN-IDLE': { message: '[llm-idle-timeout] no output from claude-sonnet-4-5 for 120s; retrying same model' },
  'AGT-TIMEOUT-CLI-EXEC': { message: 'gemini exec timed out' },
  'AGT-SANDBOX-CONFIG-MISSING': { error: new Error('Modal context is required') },
  'AGT-SANDBOX-CREATE-FAILED': { error: new AuthError('Token ID is malformed') },
  'AGT-SANDBOX-TIMEOUT': { error: new SandboxTimeoutError('Sandbox timed out') },
  'AGT-SANDBOX-TERMINATED': { sandboxExitCode: 137, terminationRequested: true },
  'AGT-SANDBOX-OOM': { sandboxExitCode: 137, terminationRequested: false },
  'AGT-SANDBOX-EXEC-FAILED': { exceptionType: 'SandboxFilesystemError', message: 'tar: /workspace: Cannot mkdir: No space left on device' },
  'AGT-WORKER-STARTUP-FAILED': { message: 'STARTUP FAILURE: ImportError: cannot import name "Graphton"' },
  'AGT-WORKER-INIT-FAILED': { message: 'System error: failed to initialise sandbox manager' },
  'AGT-WORKER-EXECUTION-FAILED': { error: new TemporalFailure('ApplicationFailure', 'test error', { type: 'ValueError' }) },
  'AGT-WORKER-LOCAL-COORDINATION': { message: 'session file locked (timeout 10000ms): agent:main /tmp/s.jsonl.lock' },
  'AGT-SESSION-TURN-START-FAILED': { message: 'provider.turn.start.failed: adapter rejected sendTurn' },
  'AGT-SESSION-PROVIDER-MISMATCH': { message: 'cannot switch models after the conversation has started' },
  'AGT-SESSION-INTERRUPT-FAILED': { message: 'provider.turn.interrupt.failed: no active turn to interrupt' },
  'AGT-SESSION-STALE-REQUEST': { message: 'Stale pending user-input request: 7f3a. Restart the turn to continue.' },
  'AGT-SESSION-PROVIDER-EXITED': { operation: 'provider_exit', stderrTail: 'Segmentation fault (core dumped)' },
  'AGT-SESSION-CANCELLED': { error: new TemporalFailure('CancelledFailure', 'Activity cancelled') },
  'AGT-CLI-NOT-FOUND': { error: spawnEnoent('gemini') },
  'AGT-CLI-NONZERO-EXIT': { message: 'copilot CLI failed' },
  'AGT-CLI-AUTH-REQUIRED': { cliExitCode: 41 },
  'AGT-CLI-TURN-LIMIT': { cliExitCode: 53 },
  'AGT-TOOL-FAILED': { isTool: true, exceptionType: 'Error', message: 'ENOENT: no such file or directory' },
  'AGT-TOOL-DENIED': { isTool: true, message: 'tool use denied by user' },
  'AGT-DELIVERY-STREAM-DISCONNECTED': { upstreamType: 'transport_error', message: 'WebSocket connection closed (1006)' },
  'AGT-DELIVERY-PERSIST-FAILED': { message: 'Failed to save history for session 4b1c: disk full' },
};

describe('every catalog code is reachable', () => {
  it.each(CATALOG.map((entry) => entry.code).filter((c) => !COLLECTOR_ONLY.has(c)))('%s from a realistic input', (expected) => {
    const input = REACHABLE[expected];
    expect(input, `no reachability input for ${expected}`).toBeDefined();
    expect(code(input)).toBe(expected);
  });

  it.each([...COLLECTOR_ONLY])('%s only through its explicit code', (expected) => {
    expect(code({ code: expected })).toBe(expected);
  });
});

// ── cost: hostile text stays linear ───────────────────────────────────────────────────────────

describe('the classifier on hostile text', () => {
  it('uses no regex that can backtrack exponentially (nested or overlapping repetition)', () => {
    expect(CLASSIFIER_REGEXES.length).toBeGreaterThan(30);
    const unsafe = CLASSIFIER_REGEXES.filter((re) => !safeRegex(re)).map((re) => re.source.slice(0, 80));
    expect(unsafe).toEqual([]);
  });

  it('classifies 8000-character near-misses of its own patterns, and only what they say', () => {
    for (const unit of ['activity StartToClos ', 'rate limi ', 'all models ', 'requested permissions to ', 'The model `']) {
      const text = unit.repeat(Math.ceil(8000 / unit.length)).slice(0, 8000);
      expect(classify({ message: text, stderrTail: text }).code).toBe(UNKNOWN_CODE);
    }
  });
});
