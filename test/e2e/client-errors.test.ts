/**
 * Every failure in the taxonomy, as a runtime would meet it: a realistic thrown value per catalog
 * code goes through the SDK (fail, a failing turn, or a failing tool), the client payload carries
 * the catalog's title and words with the session's provider and model, and the collector shows
 * the same words as the session's lastError.message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, getCatalogEntry, renderUserMessage } from '@faultline/schema';
import { init, withTimeout, type ClientError, type FailContext, type Faultline, type Session } from '@faultline/sdk';
import { STORAGES } from '../../collector/src/testing.ts';
import { RestartableCollector, tempDir } from './support.ts';

const PROVIDER = 'anthropic';
const MODEL = 'claude-sonnet-4-5';

/** An error with the fields a library puts on it. */
const err = (name: string, message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...fields });

/** Anthropic SDK APIError shape: status + `{type:'error', error:{type, message}}`. */
const anthropic = (name: string, status: number, type: string, message: string) =>
  err(name, `${status} ${JSON.stringify({ type: 'error', error: { type, message } })}`, { status, error: { type: 'error', error: { type, message } } });

/** Temporal: ActivityFailure wrapping a TimeoutFailure of one timeout type. */
const temporalTimeout = (timeoutType: string) =>
  err('ActivityFailure', 'Activity task failed', {
    activityType: 'runAgent',
    cause: err('TimeoutFailure', `Activity task timed out`, { timeoutType, lastHeartbeatDetails: { events_processed: 42 } }),
  });

/** Node child_process error after a CLI exited. */
const cliExit = (command: string, exitCode: number, stderr: string) =>
  err('Error', `Command failed: ${command}\n${stderr}`, { exitCode, code: exitCode, cmd: command, killed: false, signal: null, stderr });

const never = () => new Promise<never>(() => {});

interface Row {
  code: string;
  /** Where the runtime meets it: outside any turn (fail), inside a turn, or inside a tool call. */
  via: 'fail' | 'turn' | 'tool';
  make: () => unknown | Promise<unknown>;
  context?: FailContext;
}

const ROWS: Row[] = [
  { code: 'AGT-PROVIDER-AUTH', via: 'turn', make: () => anthropic('AuthenticationError', 401, 'authentication_error', 'invalid x-api-key') },
  { code: 'AGT-PROVIDER-AUTH-PERMANENT', via: 'turn', make: () => anthropic('PermissionDeniedError', 403, 'permission_error', 'Your API key does not have permission to use the specified resource.') },
  { code: 'AGT-PROVIDER-BILLING', via: 'turn', make: () => anthropic('BadRequestError', 400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.') },
  { code: 'AGT-PROVIDER-RATE-LIMIT', via: 'turn', make: () => anthropic('RateLimitError', 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit') },
  { code: 'AGT-PROVIDER-OVERLOADED', via: 'turn', make: () => anthropic('InternalServerError', 529, 'overloaded_error', 'Overloaded') },
  { code: 'AGT-PROVIDER-SERVER-ERROR', via: 'turn', make: () => anthropic('InternalServerError', 500, 'api_error', 'Internal server error') },
  { code: 'AGT-PROVIDER-TIMEOUT', via: 'turn', make: () => err('APIConnectionTimeoutError', 'Request timed out.') },
  { code: 'AGT-PROVIDER-FORMAT', via: 'turn', make: () => anthropic('BadRequestError', 400, 'invalid_request_error', 'messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01A. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.') },
  { code: 'AGT-PROVIDER-CONTEXT-OVERFLOW', via: 'turn', make: () => anthropic('BadRequestError', 400, 'invalid_request_error', 'prompt is too long: 215337 tokens > 200000 maximum') },
  { code: 'AGT-PROVIDER-MODEL-NOT-FOUND', via: 'turn', make: () => anthropic('NotFoundError', 404, 'not_found_error', 'model: claude-3-opus-latest') },
  { code: 'AGT-PROVIDER-SESSION-EXPIRED', via: 'turn', make: () => err('Error', 'No conversation found with session ID: 3f2a9c1e-8b7d-4e0f-9a6b-1c2d3e4f5a6b') },
  { code: 'AGT-PROVIDER-EMPTY-RESPONSE', via: 'turn', make: () => err('FailoverError', 'LLM returned an empty response', { reason: 'empty_response', provider: 'anthropic' }) },
  { code: 'AGT-PROVIDER-FAILOVER-EXHAUSTED', via: 'turn', make: () => err('Error', 'All models failed (2): anthropic/claude-sonnet-4-5: 429 rate limited (rate_limit) | openai/gpt-5: 503 (overloaded)') },
  // openclaw raises FailoverError only for provider calls; "refusal" has no code of its own yet.
  { code: 'AGT-PROVIDER-UNKNOWN', via: 'turn', make: () => err('FailoverError', 'LLM request failed (refusal)', { reason: 'refusal', provider: 'anthropic' }) },
  { code: 'AGT-TIMEOUT-SCHEDULE-TO-START', via: 'fail', make: () => temporalTimeout('SCHEDULE_TO_START') },
  { code: 'AGT-TIMEOUT-HEARTBEAT', via: 'fail', make: () => temporalTimeout('HEARTBEAT') },
  { code: 'AGT-TIMEOUT-START-TO-CLOSE', via: 'fail', make: () => temporalTimeout('START_TO_CLOSE') },
  { code: 'AGT-TIMEOUT-TURN-IDLE', via: 'turn', make: () => withTimeout('turn_idle', 20, never, { label: 'model stream' }).catch((e: unknown) => e) },
  { code: 'AGT-TIMEOUT-CLI-EXEC', via: 'tool', make: () => withTimeout('cli_exec', 20, never, { label: 'npm test' }).catch((e: unknown) => e) },
  { code: 'AGT-SANDBOX-CONFIG-MISSING', via: 'fail', make: () => err('Error', 'Modal context is required: MODAL_TOKEN_ID is not set'), context: { operation: 'sandbox_create' } },
  { code: 'AGT-SANDBOX-CREATE-FAILED', via: 'fail', make: () => err('RemoteError', 'Image build for im-9f8e7d failed: pip install exited with 1'), context: { operation: 'sandbox_create' } },
  { code: 'AGT-SANDBOX-TIMEOUT', via: 'fail', make: () => err('SandboxTimeoutError', 'Sandbox sb-12ab reached its lifetime limit') },
  { code: 'AGT-SANDBOX-TERMINATED', via: 'fail', make: () => err('SandboxTerminatedError', 'Sandbox sb-12ab was terminated') },
  { code: 'AGT-SANDBOX-OOM', via: 'tool', make: () => err('Error', 'Command failed: python train.py', { exitCode: 137, signal: 'SIGKILL', killed: true, stderr: 'Killed' }) },
  { code: 'AGT-SANDBOX-EXEC-FAILED', via: 'fail', make: () => err('SandboxFilesystemError', 'write_files failed: /workspace/src is read-only') },
  { code: 'AGT-WORKER-STARTUP-FAILED', via: 'fail', make: () => err('Error', "ModuleNotFoundError: No module named 'agent_runtime'") },
  { code: 'AGT-WORKER-INIT-FAILED', via: 'fail', make: () => err('Error', 'System error: could not load the agent configuration for agent ag-42') },
  { code: 'AGT-WORKER-EXECUTION-FAILED', via: 'fail', make: () => err('ApplicationFailure', 'Execution failed: KeyError: path', { type: 'ExecutionError', nonRetryable: true }) },
  // The runtime's own bug: neutral words, no provider named, even in a session that has one.
  { code: 'AGT-WORKER-UNKNOWN', via: 'turn', make: () => new TypeError("Cannot read properties of undefined (reading 'content')") },
  { code: 'AGT-WORKER-LOCAL-COORDINATION', via: 'fail', make: () => err('SessionWriteLockTimeoutError', 'session file locked by pid 4242 for 30000 ms') },
  { code: 'AGT-SESSION-TURN-START-FAILED', via: 'fail', make: () => err('Error', 'provider.turn.start.failed: sendTurn failed for thread th-7') },
  { code: 'AGT-SESSION-PROVIDER-MISMATCH', via: 'fail', make: () => err('Error', "Thread th-7 is bound to driver 'codex'; cannot switch models to claude-sonnet-4-5") },
  { code: 'AGT-SESSION-INTERRUPT-FAILED', via: 'fail', make: () => err('Error', 'provider.turn.interrupt.failed: failed to interrupt turn tu-3') },
  { code: 'AGT-SESSION-STALE-REQUEST', via: 'fail', make: () => err('Error', 'Stale pending approval request req-42: the turn already ended') },
  { code: 'AGT-SESSION-PROVIDER-EXITED', via: 'fail', make: () => err('Error', 'provider process exited with code 1', { stderrTail: "thread 'main' panicked at src/app.rs:88" }) },
  // The runtime's own watchdog gave up on a silent turn (the collector's watchdog has its own test).
  { code: 'AGT-SESSION-STUCK', via: 'fail', make: () => err('Error', 'no progress event for 120000 ms while Working…'), context: { code: 'AGT-SESSION-STUCK' } },
  { code: 'AGT-SESSION-CANCELLED', via: 'turn', make: () => new DOMException('This operation was aborted', 'AbortError') },
  { code: 'AGT-CLI-NOT-FOUND', via: 'tool', make: () => err('Error', 'spawn claude ENOENT', { code: 'ENOENT', errno: -2, syscall: 'spawn claude', path: 'claude' }) },
  { code: 'AGT-CLI-NONZERO-EXIT', via: 'fail', make: () => cliExit('codex exec --json', 2, "error: unexpected argument '--foo' found") },
  { code: 'AGT-CLI-AUTH-REQUIRED', via: 'fail', make: () => cliExit('gemini -p "fix it"', 41, 'Please set an Auth method in your settings.json') },
  { code: 'AGT-CLI-TURN-LIMIT', via: 'fail', make: () => ({ type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 25, session_id: 'cc-1' }) },
  { code: 'AGT-TOOL-FAILED', via: 'tool', make: () => err('Error', "ENOENT: no such file or directory, open '/workspace/notes.md'", { code: 'ENOENT', errno: -2, syscall: 'open' }) },
  { code: 'AGT-TOOL-DENIED', via: 'tool', make: () => err('Error', 'Permission denied and could not request permission from user') },
  // A runtime's own check that an error reached no client (the collector has its own invariant).
  { code: 'AGT-DELIVERY-ERROR-NOT-SURFACED', via: 'fail', make: () => err('Error', 'turn tu-9 failed but no terminal status was broadcast within 5 s'), context: { code: 'AGT-DELIVERY-ERROR-NOT-SURFACED' } },
  { code: 'AGT-DELIVERY-STREAM-DISCONNECTED', via: 'fail', make: () => err('Error', 'WebSocket connection closed before the turn finished (code 1006)') },
  { code: 'AGT-DELIVERY-PERSIST-FAILED', via: 'fail', make: () => err('Error', 'Failed to update execution status: connection terminated unexpectedly') },
];

/** Runs the failure the way the row says and returns what the runtime would show its user. */
async function meet(faultline: Faultline, session: Session, row: Row): Promise<ClientError> {
  const error = await row.make();
  if (row.via === 'fail') return session.fail(error, row.context);
  session.status('ready');
  try {
    await session.turn('reply', async () => {
      if (row.via === 'tool') await session.tool('run', async () => Promise.reject(error));
      throw error;
    });
  } catch (thrown) {
    expect(thrown).toBe(error); // the SDK rethrows the runtime's own error, untouched
    return faultline.toClientError(thrown, session);
  }
  throw new Error('the turn did not fail');
}

describe.each(STORAGES)('toClientError for every taxonomy failure on $name', (storage) => {
  let collector: RestartableCollector;
  let faultline: Faultline;
  const tmp = tempDir('client-errors');
  const seen = new Map<string, { session: Session; payload: ClientError }>();

  beforeAll(async () => {
    collector = await RestartableCollector.start(storage);
    faultline = init({ serviceName: 'taxonomy-runtime', endpoint: collector.url, spoolDir: tmp.path, heartbeatIntervalMs: 0 });
    for (const row of ROWS) {
      const session = faultline.startSession({ id: `taxonomy-${row.code}`, agent: 'coder', provider: PROVIDER, model: MODEL });
      seen.set(row.code, { session, payload: await meet(faultline, session, row) });
    }
    await faultline.flush();
  }, 60_000);
  afterAll(async () => {
    await faultline?.shutdown();
    await collector?.close();
    tmp.remove();
  });

  it('covers every code of the catalog', () => {
    expect(ROWS.map((r) => r.code).sort()).toEqual(CATALOG.map((e) => e.code).sort());
  });

  it.each(ROWS)('$code: the client payload and the collector carry the catalog words', async (row) => {
    const { session, payload } = seen.get(row.code)!;
    const entry = getCatalogEntry(row.code)!;
    const words = renderUserMessage(entry, { provider: PROVIDER, model: MODEL });
    expect(payload).toEqual({ code: row.code, title: entry.title, message: words, retryable: entry.retryable, sessionId: session.id, traceId: session.traceId });
    expect(words).not.toMatch(/\{(provider|model)\}/);
    // No stack trace and none of the technical message reaches the user.
    expect(payload.message).not.toMatch(/\n\s+at |Error:/);

    const { session: stored } = await collector.session(session.id);
    expect(stored.lastError).toMatchObject({ code: row.code, category: entry.category, message: payload.message });
    expect(stored.errorCount).toBe(1);
    expect(stored.state).toBe('error');
    expect(stored.statusMessage).toBe(payload.message);
    // Only a provider code may name the provider.
    if (entry.category !== 'provider') expect(payload.message).not.toContain('Anthropic');
  });
});
