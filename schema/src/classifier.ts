/**
 * The classifier: turns whatever is known about a failure into one catalog code. The SDK runs it
 * in-process on thrown values; the collector runs it on spans that carry no catalog code. Pure,
 * synchronous, never throws.
 *
 * Precedence (DESIGN §4, failure-taxonomy §2), first match wins:
 *  1. an explicit known catalog code;
 *  2. typed signals: Temporal timeout type, our timeout kind, openclaw failover reason,
 *     cancellation, sandbox error class and exit code, CLI spawn ENOENT, CLI exit codes with a
 *     documented meaning, and the exact strings the seed systems throw;
 *  3. context that decides the layer: tool spans, sandbox/worker/delivery operations;
 *  4. message/code overrides that beat the status (billing text on a 400, insufficient_quota on a
 *     429, 529 / overloaded_error, context_length_exceeded);
 *  5. HTTP status; 6. provider error type/code; 7. errno; 8. message patterns;
 *  9. generic fallbacks (CLI non-zero exit, ApplicationFailure, operation) → the unknown code.
 *
 * Pure: no node:* imports; this file also runs in the browser dashboard.
 */
import { isCatalogCode, UNKNOWN_CODE } from './catalog.ts';
import type { Classification, ClassifierInput } from './classifier-types.ts';
import { truncateText, truncateTextStart } from './text.ts';

// ── small readers that tolerate anything ───────────────────────────────────────────────────────

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function int(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,6}$/.test(value.trim())) return Number(value.trim());
  return null;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true';
}

/** A table lookup that ignores inherited keys ("constructor", "toString", …). */
function lookup<T>(table: Record<string | number, T>, key: string | number | null): T | undefined {
  return key !== null && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Reads a property without letting a throwing getter or a proxy escape. */
function prop(target: unknown, key: string): unknown {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return undefined;
  try {
    return (target as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Regexes below scan at most this much of each text, so a huge stderr costs little. */
const MAX_TEXT = 4000;
function clip(text: string): string {
  return text.length <= MAX_TEXT * 2 ? text : `${text.slice(0, MAX_TEXT)}\n${text.slice(-MAX_TEXT)}`;
}

// ── typed-signal tables ────────────────────────────────────────────────────────────────────────

/** Temporal `TimeoutType` names, and their proto numbers 1–4. */
const TEMPORAL_PROTO: Record<number, string> = {
  1: 'START_TO_CLOSE',
  2: 'SCHEDULE_TO_START',
  3: 'SCHEDULE_TO_CLOSE',
  4: 'HEARTBEAT',
};
const TEMPORAL_TIMEOUT_CODES: Record<string, string> = {
  SCHEDULE_TO_START: 'AGT-TIMEOUT-SCHEDULE-TO-START',
  HEARTBEAT: 'AGT-TIMEOUT-HEARTBEAT',
  START_TO_CLOSE: 'AGT-TIMEOUT-START-TO-CLOSE',
  // The taxonomy folds SCHEDULE_TO_CLOSE into START-TO-CLOSE; the raw type stays on the span.
  SCHEDULE_TO_CLOSE: 'AGT-TIMEOUT-START-TO-CLOSE',
};

export function normalizeTemporalTimeoutType(value: unknown): string | null {
  const n = int(value);
  if (n !== null) return lookup(TEMPORAL_PROTO, n) ?? null;
  const s = str(value);
  if (s === null) return null;
  const name = s.trim().toUpperCase().replace(/^TIMEOUT_TYPE_/, '');
  return lookup(TEMPORAL_TIMEOUT_CODES, name) !== undefined ? name : null;
}

/** `faultline.timeout.kind` → code. */
const TIMEOUT_KIND_CODES: Record<string, string> = {
  schedule_to_start: 'AGT-TIMEOUT-SCHEDULE-TO-START',
  heartbeat: 'AGT-TIMEOUT-HEARTBEAT',
  start_to_close: 'AGT-TIMEOUT-START-TO-CLOSE',
  turn_idle: 'AGT-TIMEOUT-TURN-IDLE',
  cli_exec: 'AGT-TIMEOUT-CLI-EXEC',
  provider: 'AGT-PROVIDER-TIMEOUT',
  sandbox: 'AGT-SANDBOX-TIMEOUT',
};

/** openclaw `FailoverReason` → code; unknown/unclassified/refusal fall through to other rules. */
const FAILOVER_REASON_CODES: Record<string, string> = {
  auth: 'AGT-PROVIDER-AUTH',
  auth_permanent: 'AGT-PROVIDER-AUTH-PERMANENT',
  billing: 'AGT-PROVIDER-BILLING',
  rate_limit: 'AGT-PROVIDER-RATE-LIMIT',
  overloaded: 'AGT-PROVIDER-OVERLOADED',
  server_error: 'AGT-PROVIDER-SERVER-ERROR',
  timeout: 'AGT-PROVIDER-TIMEOUT',
  format: 'AGT-PROVIDER-FORMAT',
  context_overflow: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
  model_not_found: 'AGT-PROVIDER-MODEL-NOT-FOUND',
  session_expired: 'AGT-PROVIDER-SESSION-EXPIRED',
  empty_response: 'AGT-PROVIDER-EMPTY-RESPONSE',
  no_error_details: 'AGT-PROVIDER-EMPTY-RESPONSE',
};

/** Modal error classes that always mean one thing. */
const SANDBOX_CLASS_CODES: Record<string, string> = {
  SandboxTimeoutError: 'AGT-SANDBOX-TIMEOUT',
  SandboxTerminatedError: 'AGT-SANDBOX-TERMINATED',
  SandboxFilesystemError: 'AGT-SANDBOX-EXEC-FAILED',
};
/**
 * Modal's generic classes (Python `modal.exception` and `libmodal`); they mean "create failed"
 * unless the operation was a command or file operation inside an existing sandbox.
 */
export const MODAL_GENERIC_CLASSES: ReadonlySet<string> = new Set([
  'AuthError',
  'NotFoundError',
  'InvalidError',
  'AlreadyExistsError',
  'RemoteError',
  'InternalFailure',
  'ConnectionError',
  'ExecutionError',
  'VersionError',
  'RequestSizeError',
]);

/** Provider `error.type` / `error.code` values (Anthropic, OpenAI, Gemini, t3code classes). */
const UPSTREAM_CODES: Record<string, string> = {
  authentication_error: 'AGT-PROVIDER-AUTH',
  invalid_api_key: 'AGT-PROVIDER-AUTH',
  unauthenticated: 'AGT-PROVIDER-AUTH',
  permission_error: 'AGT-PROVIDER-AUTH-PERMANENT',
  permission_denied: 'AGT-PROVIDER-AUTH-PERMANENT',
  unsupported_country_region_territory: 'AGT-PROVIDER-AUTH-PERMANENT',
  not_found_error: 'AGT-PROVIDER-MODEL-NOT-FOUND',
  model_not_found: 'AGT-PROVIDER-MODEL-NOT-FOUND',
  request_too_large: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
  context_length_exceeded: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
  rate_limit_error: 'AGT-PROVIDER-RATE-LIMIT',
  rate_limit_exceeded: 'AGT-PROVIDER-RATE-LIMIT',
  resource_exhausted: 'AGT-PROVIDER-RATE-LIMIT',
  usage_limit: 'AGT-PROVIDER-RATE-LIMIT',
  overloaded_error: 'AGT-PROVIDER-OVERLOADED',
  slow_down: 'AGT-PROVIDER-OVERLOADED',
  unavailable: 'AGT-PROVIDER-OVERLOADED',
  api_error: 'AGT-PROVIDER-SERVER-ERROR',
  server_error: 'AGT-PROVIDER-SERVER-ERROR',
  internal: 'AGT-PROVIDER-SERVER-ERROR',
  timeout_error: 'AGT-PROVIDER-TIMEOUT',
  deadline_exceeded: 'AGT-PROVIDER-TIMEOUT',
  invalid_request_error: 'AGT-PROVIDER-FORMAT',
  invalid_argument: 'AGT-PROVIDER-FORMAT',
  validation_error: 'AGT-PROVIDER-FORMAT',
  transport_error: 'AGT-DELIVERY-STREAM-DISCONNECTED',
  // Claude Code `result` subtypes.
  error_max_turns: 'AGT-CLI-TURN-LIMIT',
  error_during_execution: 'AGT-CLI-NONZERO-EXIT',
};
const BILLING_UPSTREAM = new Set([
  'insufficient_quota',
  'enforced_spend_limit_reached',
  'billing_hard_limit_reached',
  'billing_error',
  'credit_balance_too_low',
]);

/** Network errnos: the connection to the provider failed or timed out. */
const NETWORK_ERRNOS = new Set([
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Gemini CLI fatal exit codes (packages/core/src/utils/errors.ts) and shell conventions. */
const CLI_EXIT_CODES: Record<number, [code: string, rule: string]> = {
  41: ['AGT-CLI-AUTH-REQUIRED', 'cli-exit-41-auth'],
  42: ['AGT-CLI-NONZERO-EXIT', 'cli-exit-42-input'],
  44: ['AGT-SANDBOX-CREATE-FAILED', 'cli-exit-44-sandbox'],
  52: ['AGT-CLI-NONZERO-EXIT', 'cli-exit-52-config'],
  53: ['AGT-CLI-TURN-LIMIT', 'cli-exit-53-turn-limit'],
  54: ['AGT-TOOL-FAILED', 'cli-exit-54-tool'],
  124: ['AGT-TIMEOUT-CLI-EXEC', 'cli-exit-124-timeout'],
  127: ['AGT-CLI-NOT-FOUND', 'cli-exit-127-not-found'],
  130: ['AGT-SESSION-CANCELLED', 'cli-exit-130-cancelled'],
};

const CANCEL_TYPES = new Set(['CancelledFailure', 'TerminatedFailure', 'AbortError', 'CancelledError', 'APIUserAbortError']);
const COORDINATION_TYPES = new Set([
  'SessionWriteLockTimeoutError',
  'SessionWriteLockStaleError',
  'GatewayDrainingError',
  'WorkerRunnerUnavailableError',
  'WorkerRunnerCapacityError',
  'WorkerWorkspaceReconciliationError',
  'ActiveTurnClaimError',
]);

// ── message patterns ───────────────────────────────────────────────────────────────────────────

type Pattern = readonly [rule: string, re: RegExp, code: string];

/**
 * Exact strings the seed systems throw. They name the layer that failed, so they rank with the
 * typed signals, ahead of any status code.
 */
const SEED_PATTERNS: readonly Pattern[] = [
  ['modal-context-required', /Modal context is required|MODAL_TOKEN_(ID|SECRET) (is )?(not set|missing)/i, 'AGT-SANDBOX-CONFIG-MISSING'],
  ['cli-not-in-path', /\bCLI not found in PATH\b|\bspawn\s+\S+\s+ENOENT\b|\bcommand not found\b/i, 'AGT-CLI-NOT-FOUND'],
  ['cli-exec-timed-out', /\bexec timed out\b/i, 'AGT-TIMEOUT-CLI-EXEC'],
  [
    'cli-auth-text',
    /No authentication information found|Please run \/login|Session was not created with authentication info|not logged in\b.*\blogin\b|Please set an Auth method/i,
    'AGT-CLI-AUTH-REQUIRED',
  ],
  ['cli-max-turns', /\berror_max_turns\b|reached (the )?max(imum)? (number of )?turns/i, 'AGT-CLI-TURN-LIMIT'],
  [
    't3-provider-mismatch',
    /cannot switch models|is bound to driver|unknown provider instance/i,
    'AGT-SESSION-PROVIDER-MISMATCH',
  ],
  ['t3-stale-request', /Stale pending (approval|user[- ]input)/i, 'AGT-SESSION-STALE-REQUEST'],
  [
    'local-coordination',
    /session file locked|OPENCLAW_SESSION_WRITE_LOCK|write[- ]lock (timeout|timed out)|(attempt|session) takeover|taken over by another|failed to acquire (the )?(session )?lock/i,
    'AGT-WORKER-LOCAL-COORDINATION',
  ],
  [
    'worker-startup',
    /STARTUP FAILURE|\bImportError\b|\bModuleNotFoundError\b|No module named ['"]?\w/,
    'AGT-WORKER-STARTUP-FAILED',
  ],
  ['tool-denied', /Permission denied and could not request permission|\btool(_use| use| call)? (was )?denied\b/i, 'AGT-TOOL-DENIED'],
  [
    'interrupt-failed',
    /provider\.turn\.interrupt\.failed|failed to interrupt|interrupt(ion)? (request )?(failed|timed out)/i,
    'AGT-SESSION-INTERRUPT-FAILED',
  ],
  [
    'persist-failed',
    /Failed to (update|save|persist|write|store) (the )?(execution )?(status|history|message|session)/i,
    'AGT-DELIVERY-PERSIST-FAILED',
  ],
  ['sandbox-image-build', /image build (for \S+ )?(failed|terminated)|failed to (create|start) (the )?sandbox/i, 'AGT-SANDBOX-CREATE-FAILED'],
  // stigmer's top-level catch wraps failures outside the execution loop, i.e. initialisation.
  ['stigmer-system-error', /^\s*System error:/im, 'AGT-WORKER-INIT-FAILED'],
  ['sandbox-timed-out', /\bsandbox (has )?(timed out|reached its (time|lifetime) limit)/i, 'AGT-SANDBOX-TIMEOUT'],
];

const BILLING_TEXT =
  /credit balance (is )?too low|insufficient[_ ](credits?|balance|funds|quota)|exceeded your current quota|check your plan and billing|plans? & billing|spend(ing)? limit|billing hard limit|payment required|out of credits|purchase (more )?credits/i;
const CONTEXT_TEXT =
  /ran out of room in the model's context window|context[_ ]length[_ ]exceeded|maximum context length|context window (is )?(exceeded|full)|exceeds? the context window|prompt is too long|input is too long for|too many tokens/i;
/** openclaw: "All models failed (2): anthropic/claude-…: … (rate_limit) | openai/gpt-…: …". */
const FAILOVER_EXHAUSTED_TEXT =
  /All models failed \(\d+\)|all (models|candidates|profiles|fallbacks)( \w+)? (failed|exhausted|are in cooldown)|no (available|remaining) (models?|auth profiles?|profiles?|fallbacks?)\b/i;
const OVERLOADED_TEXT = /\boverloaded(_error)?\b/i;

/** Provider-side patterns, most specific first (after status and type have had their say). */
const MESSAGE_PATTERNS: readonly Pattern[] = [
  ['turn-idle-text', /\[llm-idle-timeout\]|stream (stalled|went idle)|stalledForMs/i, 'AGT-TIMEOUT-TURN-IDLE'],
  [
    'session-expired-text',
    /No conversation found with session ID|session (id )?(not found|has expired|expired)|thread not found|could not resume/i,
    'AGT-PROVIDER-SESSION-EXPIRED',
  ],
  [
    'auth-permanent-text',
    /permission_error|(key|account|organization) (has been|was|is) (revoked|disabled|deactivated|suspended)|does not have access to (the )?model|not allowed to use (this|the) model|region (is )?not supported/i,
    'AGT-PROVIDER-AUTH-PERMANENT',
  ],
  [
    'auth-text',
    /authentication_error|invalid[ _-]?(x-)?api[ _-]?key|incorrect api key|api key not valid|invalid bearer token|oauth token (has )?expired|\bunauthori[sz]ed\b|\b401\b/i,
    'AGT-PROVIDER-AUTH',
  ],
  [
    'rate-limit-text',
    /rate[ _-]?limit|too many requests|resource[_ ]exhausted|tokens per min|requests per min|usage limit|hit your limit|\b429\b/i,
    'AGT-PROVIDER-RATE-LIMIT',
  ],
  [
    'overloaded-text',
    /overloaded|at capacity|high demand|temporarily unavailable|service unavailable|\b529\b/i,
    'AGT-PROVIDER-OVERLOADED',
  ],
  [
    'model-not-found-text',
    /model_not_found|not_found_error|\bmodel\b[^.\n]{0,80}\b(not found|does not exist|is not available|not supported)|unknown model|no such model/i,
    'AGT-PROVIDER-MODEL-NOT-FOUND',
  ],
  [
    'stream-disconnected-client',
    /websocket (connection )?(closed|disconnected|lost)|event ?source (connection )?(lost|closed|failed)|sse (connection|stream) (lost|closed|dropped)|\breconnecting\b/i,
    'AGT-DELIVERY-STREAM-DISCONNECTED',
  ],
  [
    'network-timeout-text',
    /stream disconnected before completion|timed out|\btimeout\b|ETIMEDOUT|ECONNRESET|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed|stream closed|network[_ ]error|premature close|connection (reset|refused|error)/i,
    'AGT-PROVIDER-TIMEOUT',
  ],
  [
    'server-error-text',
    /internal server error|\bapi_error\b|\bserver_error\b|bad gateway|\b50[02]\b/i,
    'AGT-PROVIDER-SERVER-ERROR',
  ],
  [
    'empty-response-text',
    /empty (response|completion|reply|answer)|returned no (content|text|output)|no (content|text) in (the )?response|no_error_details/i,
    'AGT-PROVIDER-EMPTY-RESPONSE',
  ],
  [
    'format-text',
    /invalid_request_error|tool_use_id|tool_result block|must end with a user message|roles must alternate|invalid request/i,
    'AGT-PROVIDER-FORMAT',
  ],
];

/** Wrappers whose own message says less than their cause. Matched late, after provider rules. */
const LATE_PATTERNS: readonly Pattern[] = [
  ['stigmer-execution-failed', /^\s*Execution failed:/im, 'AGT-WORKER-EXECUTION-FAILED'],
  [
    'turn-start-failed-text',
    /provider\.turn\.start\.failed|failed to (start|send) (the )?turn|sendTurn failed/i,
    'AGT-SESSION-TURN-START-FAILED',
  ],
  [
    'provider-exited-text',
    /provider (process|session) exited|session\.exited|process exited (unexpectedly|with (exit )?code [1-9])/i,
    'AGT-SESSION-PROVIDER-EXITED',
  ],
  ['cli-failed-text', /\bCLI failed\b/i, 'AGT-CLI-NONZERO-EXIT'],
];

function matchPatterns(patterns: readonly Pattern[], text: string): Classification | null {
  if (text === '') return null;
  for (const [rule, re, code] of patterns) if (re.test(text)) return { code, rule };
  return null;
}

// ── operations (ClassifierInput.operation) ─────────────────────────────────────────────────────

/**
 * Values for `ClassifierInput.operation` (span attribute `faultline.operation`) that the
 * classifier understands: what the runtime was doing when a failure said nothing more precise.
 */
export const CLASSIFIER_OPERATIONS = [
  'sandbox_create',
  'sandbox_exec',
  'tool',
  'persist',
  'client_stream',
  'worker_startup',
  'worker_init',
  'turn_start',
  'interrupt',
  'provider_exit',
  'cli_spawn',
  'cli',
] as const;

type OperationKind =
  | 'sandbox_create'
  | 'sandbox_exec'
  | 'tool'
  | 'persist'
  | 'stream'
  | 'worker_startup'
  | 'worker_init'
  | 'turn_start'
  | 'interrupt'
  | 'provider_exit'
  | 'cli_spawn'
  | 'cli';

function operationKind(operation: string | null): OperationKind | null {
  if (operation === null) return null;
  const op = operation.toLowerCase();
  if (/sandbox[._-]?(create|start|provision)|image[._-]?build|environment[._-]?create|ee[._:-]?creat/.test(op)) return 'sandbox_create';
  if (/sandbox[._-]?(exec|write|read|fs|file|mkdir)|write[._-]?files|create[._-]?directory/.test(op)) return 'sandbox_exec';
  if (/^(tool|execute_tool)\b/.test(op)) return 'tool';
  if (/persist|history[._-]?write|status[._-]?write|save[._-]?history/.test(op)) return 'persist';
  // Not a bare "stream": that could as well be the provider's response stream.
  if (/^(client[._-]?stream|deliver|broadcast|websocket|sse)\b/.test(op)) return 'stream';
  if (/worker[._-]?(startup|start|boot)/.test(op)) return 'worker_startup';
  if (/worker[._-]?init|activity[._-]?init/.test(op)) return 'worker_init';
  if (/turn[._-]?start|send[._-]?turn/.test(op)) return 'turn_start';
  if (/interrupt/.test(op)) return 'interrupt';
  if (/provider[._-]?(exit|session)/.test(op)) return 'provider_exit';
  if (/cli[._-]?spawn|^spawn/.test(op)) return 'cli_spawn';
  if (/^cli\b|cli[._-]?exec/.test(op)) return 'cli';
  return null;
}

// ── classify ───────────────────────────────────────────────────────────────────────────────────

const INPUT_KEYS = [
  'code',
  'exceptionType',
  'message',
  'httpStatus',
  'upstreamType',
  'upstreamCode',
  'errno',
  'temporalTimeoutType',
  'failoverReason',
  'timeoutKind',
  'cliExitCode',
  'cliSignal',
  'stderrTail',
  'sandboxErrorClass',
  'sandboxExitCode',
  'terminationRequested',
  'operation',
  'isTool',
] as const satisfies readonly (keyof ClassifierInput)[];

/** Explicit fields win over what was read from `input.error`. */
function mergeInput(input: ClassifierInput): { merged: ClassifierInput; extraText: string | null } {
  if (prop(input, 'error') === undefined) return { merged: input, extraText: null };
  const derived = classifierInputFromError(prop(input, 'error'));
  const merged: Record<string, unknown> = { ...derived };
  for (const key of INPUT_KEYS) {
    const value = prop(input, key);
    if (value !== undefined && value !== null) merged[key] = value;
  }
  const explicitMessage = str(prop(input, 'message'));
  const derivedMessage = str(derived.message);
  const extraText = explicitMessage !== null && derivedMessage !== null && derivedMessage !== explicitMessage ? derivedMessage : null;
  return { merged: merged as ClassifierInput, extraText };
}

export function classify(input: ClassifierInput): Classification {
  try {
    return classifyUnsafe(input);
  } catch {
    return { code: UNKNOWN_CODE, rule: 'classifier-error' };
  }
}

function classifyUnsafe(input: ClassifierInput): Classification {
  if (input === null || typeof input !== 'object') return { code: UNKNOWN_CODE, rule: 'no-input' };
  const { merged: f, extraText } = mergeInput(input);

  const message = str(f.message);
  const stderr = str(f.stderrTail);
  const exceptionType = str(f.exceptionType);
  const text = clip([message, extraText, stderr].filter((t): t is string => t !== null).join('\n'));
  const textWithType = exceptionType === null ? text : `${exceptionType}\n${text}`;
  const status = int(f.httpStatus);
  const upstreamType = str(f.upstreamType)?.trim().toLowerCase() ?? null;
  const upstreamCode = str(f.upstreamCode)?.trim().toLowerCase() ?? null;
  const errno = str(f.errno)?.trim().toUpperCase() ?? null;
  const op = operationKind(str(f.operation));
  const terminationRequested = bool(f.terminationRequested);
  const cliExit = int(f.cliExitCode);
  const signal = str(f.cliSignal)?.trim().toUpperCase() ?? null;
  const isTool = bool(f.isTool) || op === 'tool';

  // 1. An explicit catalog code. The unknown code is not a decision, so we try to do better.
  const code = str(f.code)?.trim() ?? null;
  if (isCatalogCode(code) && code !== UNKNOWN_CODE) return { code, rule: 'explicit-code' };

  // 2. Typed signals.
  const temporal = normalizeTemporalTimeoutType(f.temporalTimeoutType);
  const temporalCode = lookup(TEMPORAL_TIMEOUT_CODES, temporal);
  if (temporalCode !== undefined) return { code: temporalCode, rule: 'temporal-timeout' };

  const timeoutKind = str(f.timeoutKind)?.trim().toLowerCase() ?? null;
  const timeoutCode = lookup(TIMEOUT_KIND_CODES, timeoutKind);
  if (timeoutCode !== undefined) return { code: timeoutCode, rule: 'timeout-kind' };

  const reason = str(f.failoverReason)?.trim().toLowerCase() ?? null;
  const reasonCode = lookup(FAILOVER_REASON_CODES, reason);
  if (reasonCode !== undefined) return { code: reasonCode, rule: 'failover-reason' };

  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (exceptionType === 'TimeoutError') return { code: 'AGT-PROVIDER-TIMEOUT', rule: 'abort-timeout' };
  if (exceptionType !== null && CANCEL_TYPES.has(exceptionType)) {
    if (/timed? ?out|timeout/i.test(text)) return { code: 'AGT-PROVIDER-TIMEOUT', rule: 'abort-timeout' };
    return { code: 'AGT-SESSION-CANCELLED', rule: 'cancelled' };
  }
  if (exceptionType !== null && COORDINATION_TYPES.has(exceptionType)) {
    return { code: 'AGT-WORKER-LOCAL-COORDINATION', rule: 'local-coordination-type' };
  }

  const sandboxClass =
    str(f.sandboxErrorClass)?.trim() ?? (lookup(SANDBOX_CLASS_CODES, exceptionType) !== undefined ? exceptionType : null);
  if (sandboxClass !== null) {
    const specific = lookup(SANDBOX_CLASS_CODES, sandboxClass);
    if (specific !== undefined) return { code: specific, rule: 'sandbox-class' };
    if (MODAL_GENERIC_CLASSES.has(sandboxClass)) {
      return op === 'sandbox_exec'
        ? { code: 'AGT-SANDBOX-EXEC-FAILED', rule: 'sandbox-class-exec' }
        : { code: 'AGT-SANDBOX-CREATE-FAILED', rule: 'sandbox-class-create' };
    }
  }

  // Exit 137 is SIGKILL: the OOM killer, unless we asked for the termination ourselves.
  const sandboxExit = int(f.sandboxExitCode);
  if (sandboxExit !== null) {
    if (sandboxExit === 137) {
      return terminationRequested
        ? { code: 'AGT-SANDBOX-TERMINATED', rule: 'sandbox-exit-137-requested' }
        : { code: 'AGT-SANDBOX-OOM', rule: 'sandbox-exit-137-oom' };
    }
    if (sandboxExit !== 0 && op === 'sandbox_exec') return { code: 'AGT-SANDBOX-EXEC-FAILED', rule: 'sandbox-exec-exit' };
    return { code: 'AGT-SANDBOX-TERMINATED', rule: 'sandbox-exit' };
  }

  if (errno === 'ENOENT' && (op === 'cli_spawn' || /\bspawn\s+\S+/i.test(text))) {
    return { code: 'AGT-CLI-NOT-FOUND', rule: 'cli-spawn-enoent' };
  }
  if (cliExit === 137 || signal === 'SIGKILL') {
    return terminationRequested
      ? { code: 'AGT-SANDBOX-TERMINATED', rule: 'cli-killed-requested' }
      : { code: 'AGT-SANDBOX-OOM', rule: 'cli-killed-oom' };
  }
  const exitMeaning = lookup(CLI_EXIT_CODES, cliExit);
  if (exitMeaning !== undefined) return { code: exitMeaning[0], rule: exitMeaning[1] };
  if (signal === 'SIGINT') return { code: 'AGT-SESSION-CANCELLED', rule: 'cli-sigint' };

  const seed = matchPatterns(SEED_PATTERNS, text);
  if (seed !== null) return seed;

  // Claude Code `result` subtypes are typed too.
  if (upstreamType === 'error_max_turns' || upstreamType === 'error_during_execution') {
    return { code: lookup(UPSTREAM_CODES, upstreamType)!, rule: 'claude-result-subtype' };
  }

  // 3. The layer that failed decides before provider rules could misread its status.
  if (isTool) return { code: 'AGT-TOOL-FAILED', rule: 'tool-span' };
  switch (op) {
    case 'sandbox_create':
      return { code: 'AGT-SANDBOX-CREATE-FAILED', rule: 'operation-sandbox-create' };
    case 'sandbox_exec':
      return { code: 'AGT-SANDBOX-EXEC-FAILED', rule: 'operation-sandbox-exec' };
    case 'persist':
      return { code: 'AGT-DELIVERY-PERSIST-FAILED', rule: 'operation-persist' };
    case 'stream':
      return { code: 'AGT-DELIVERY-STREAM-DISCONNECTED', rule: 'operation-stream' };
    case 'worker_startup':
      return { code: 'AGT-WORKER-STARTUP-FAILED', rule: 'operation-worker-startup' };
    case 'worker_init':
      return { code: 'AGT-WORKER-INIT-FAILED', rule: 'operation-worker-init' };
    default:
      break;
  }

  // 4. Overrides that beat the status: billing hides behind 400 and 429, overload behind 529.
  if ((upstreamCode !== null && BILLING_UPSTREAM.has(upstreamCode)) || (upstreamType !== null && BILLING_UPSTREAM.has(upstreamType))) {
    return { code: 'AGT-PROVIDER-BILLING', rule: 'billing-code' };
  }
  if (BILLING_TEXT.test(text)) return { code: 'AGT-PROVIDER-BILLING', rule: 'billing-text' };
  if (status === 529 || upstreamType === 'overloaded_error' || upstreamCode === 'overloaded_error') {
    return { code: 'AGT-PROVIDER-OVERLOADED', rule: 'overloaded-529' };
  }
  if (upstreamCode === 'context_length_exceeded' || upstreamType === 'context_length_exceeded' || CONTEXT_TEXT.test(text)) {
    return { code: 'AGT-PROVIDER-CONTEXT-OVERFLOW', rule: 'context-overflow' };
  }
  // The chain's summary names each candidate's reason; billing (above) keeps its own copy (#66314).
  if (FAILOVER_EXHAUSTED_TEXT.test(text)) return { code: 'AGT-PROVIDER-FAILOVER-EXHAUSTED', rule: 'failover-exhausted' };
  if (status === 400 && OVERLOADED_TEXT.test(text)) return { code: 'AGT-PROVIDER-OVERLOADED', rule: 'overloaded-text' };

  // 5. HTTP status.
  if (status !== null) {
    const byStatus = statusCode(status);
    if (byStatus !== null) return { code: byStatus, rule: 'http-status' };
  }

  // 6. Provider error type / code.
  for (const value of [upstreamCode, upstreamType]) {
    const upstream = lookup(UPSTREAM_CODES, value);
    if (upstream !== undefined) return { code: upstream, rule: 'upstream-type' };
  }

  // 7. errno.
  if (errno !== null && NETWORK_ERRNOS.has(errno)) return { code: 'AGT-PROVIDER-TIMEOUT', rule: 'errno-network' };

  // 8. Message patterns.
  const byMessage = matchPatterns(MESSAGE_PATTERNS, textWithType);
  if (byMessage !== null) return byMessage;

  // 9. Generic fallbacks.
  if (cliExit !== null && cliExit !== 0) return { code: 'AGT-CLI-NONZERO-EXIT', rule: 'cli-exit-nonzero' };
  if (signal !== null) {
    return terminationRequested
      ? { code: 'AGT-SESSION-CANCELLED', rule: 'process-signal-requested' }
      : { code: 'AGT-SESSION-PROVIDER-EXITED', rule: 'process-signal' };
  }
  const late = matchPatterns(LATE_PATTERNS, text);
  if (late !== null) return late;
  if (exceptionType === 'ApplicationFailure') {
    return /^\s*\w*init\w*:/im.test(text)
      ? { code: 'AGT-WORKER-INIT-FAILED', rule: 'application-failure-init' }
      : { code: 'AGT-WORKER-EXECUTION-FAILED', rule: 'application-failure' };
  }
  switch (op) {
    case 'turn_start':
      return { code: 'AGT-SESSION-TURN-START-FAILED', rule: 'operation-turn-start' };
    case 'interrupt':
      return { code: 'AGT-SESSION-INTERRUPT-FAILED', rule: 'operation-interrupt' };
    case 'provider_exit':
      return { code: 'AGT-SESSION-PROVIDER-EXITED', rule: 'operation-provider-exit' };
    case 'cli':
      return { code: 'AGT-CLI-NONZERO-EXIT', rule: 'operation-cli' };
    default:
      break;
  }
  return { code: UNKNOWN_CODE, rule: 'unknown' };
}

function statusCode(status: number): string | null {
  switch (status) {
    case 400:
    case 422:
      return 'AGT-PROVIDER-FORMAT';
    case 401:
      return 'AGT-PROVIDER-AUTH';
    case 402:
      return 'AGT-PROVIDER-BILLING';
    case 403:
      return 'AGT-PROVIDER-AUTH-PERMANENT';
    case 404:
      return 'AGT-PROVIDER-MODEL-NOT-FOUND';
    case 408:
    case 504:
      return 'AGT-PROVIDER-TIMEOUT';
    case 410:
      return 'AGT-PROVIDER-SESSION-EXPIRED';
    case 413:
      return 'AGT-PROVIDER-CONTEXT-OVERFLOW';
    case 429:
      return 'AGT-PROVIDER-RATE-LIMIT';
    case 503:
    case 529:
      return 'AGT-PROVIDER-OVERLOADED';
    default:
      return status >= 500 && status <= 599 ? 'AGT-PROVIDER-SERVER-ERROR' : null;
  }
}

// ── reading thrown values ──────────────────────────────────────────────────────────────────────

/** Wrappers whose message only says "something below failed"; the cause says what. */
const WRAPPER_TYPES = new Set([
  'ActivityFailure',
  'ChildWorkflowFailure',
  'WorkflowFailedError',
  'WorkflowExecutionFailedError',
  'ServerFailure',
]);

const MAX_CAUSE_DEPTH = 8;
const MAX_MESSAGE = 2000;

function errorName(value: unknown): string | null {
  const name = str(prop(value, 'name'));
  if (name !== null) return name;
  const ctor = prop(value, 'constructor');
  const ctorName = typeof ctor === 'function' ? str(prop(ctor, 'name')) : null;
  return ctorName === 'Object' ? null : ctorName;
}

/** `{status, error:{type,message}}` (OpenAI) and `{status, error:{type:'error', error:{type,message}}}` (Anthropic). */
function providerBody(value: unknown): Record<string, unknown> | null {
  const body = prop(value, 'error');
  if (body === null || typeof body !== 'object') return null;
  const inner = prop(body, 'error');
  if (inner !== null && typeof inner === 'object') return inner as Record<string, unknown>;
  return body as Record<string, unknown>;
}

/**
 * Reads a thrown value, duck-typed, into classifier input: Temporal failures (walking `.cause`),
 * Anthropic/OpenAI SDK errors, Modal errors by class name, Node child-process errors and CLI
 * results, openclaw `FailoverError`, a `faultlineCode` property, or any Error. Never throws.
 */
export function classifierInputFromError(error: unknown): ClassifierInput {
  try {
    return readError(error);
  } catch {
    return {};
  }
}

function readError(error: unknown): ClassifierInput {
  if (typeof error === 'string') return str(error) === null ? {} : { message: truncateText(error, MAX_MESSAGE) };
  if (error === null || typeof error !== 'object') return {};

  const out: ClassifierInput = {};
  const messages: string[] = [];
  // "Activity task failed" says less than its cause; used only when nothing else has a message.
  const wrapperMessages: string[] = [];
  let exceptionType: string | null = null;
  let outerType: string | null = null;
  const seen = new Set<unknown>();
  const set = <K extends keyof ClassifierInput>(key: K, value: ClassifierInput[K] | null | undefined): void => {
    if (value !== null && value !== undefined && (out[key] === undefined || out[key] === null)) out[key] = value;
  };

  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== null && typeof current === 'object' && !seen.has(current); depth++) {
    seen.add(current);
    const name = errorName(current);
    outerType ??= name;
    if (name !== null && !WRAPPER_TYPES.has(name) && exceptionType === null) exceptionType = name;

    const faultlineCode = str(prop(current, 'faultlineCode'));
    if (isCatalogCode(faultlineCode)) set('code', faultlineCode);

    const body = providerBody(current);
    const ownMessage = str(prop(current, 'message'));
    const bodyMessage = body === null ? null : str(prop(body, 'message'));
    const into = name !== null && WRAPPER_TYPES.has(name) ? wrapperMessages : messages;
    for (const m of [ownMessage, bodyMessage]) {
      if (m !== null && !into.some((known) => known.includes(m))) into.push(m);
    }

    // Temporal.
    if (name === 'TimeoutFailure') set('temporalTimeoutType', normalizeTemporalTimeoutType(prop(current, 'timeoutType')));
    if (name === 'ApplicationFailure') {
      const failureType = str(prop(current, 'type'));
      const at = ownMessage === null ? -1 : messages.indexOf(ownMessage);
      if (failureType !== null && at >= 0 && !messages[at].startsWith(failureType)) messages[at] = `${failureType}: ${messages[at]}`;
    }

    // openclaw FailoverError.
    if (name === 'FailoverError') set('failoverReason', str(prop(current, 'reason')));

    // HTTP and provider bodies (Anthropic/OpenAI SDKs, fetch wrappers).
    const status = int(prop(current, 'status')) ?? int(prop(current, 'statusCode')) ?? int(prop(prop(current, 'response'), 'status'));
    if (status !== null && status >= 100 && status <= 599) set('httpStatus', status);
    if (body !== null) {
      const bodyType = str(prop(body, 'type'));
      if (bodyType !== null && bodyType !== 'error') set('upstreamType', bodyType);
      const bodyCode = str(prop(body, 'code'));
      if (bodyCode !== null) set('upstreamCode', bodyCode);
      // Anthropic spend limit: error.details.error_code = enforced_spend_limit_reached.
      set('upstreamCode', str(prop(prop(body, 'details'), 'error_code')));
    }
    const ownType = str(prop(current, 'type'));
    if (ownType !== null && name !== 'ApplicationFailure' && ownType !== 'error' && ownType !== 'result') set('upstreamType', ownType);
    // Claude Code `result` message: {type:'result', subtype:'error_max_turns', is_error:true}.
    if (ownType === 'result') set('upstreamType', str(prop(current, 'subtype')));
    // t3code runtime.error payload: {message, class}.
    const errorClass = str(prop(current, 'class'));
    if (errorClass !== null) set('upstreamType', errorClass);

    // `code`: a catalog code, an errno, a child-process exit code, or a provider code.
    const rawCode = prop(current, 'code');
    const codeString = str(rawCode);
    if (isCatalogCode(codeString)) set('code', codeString);
    else if (codeString !== null && /^(E[A-Z0-9]+|UND_ERR_[A-Z_]+)$/.test(codeString)) set('errno', codeString);
    else if (codeString !== null) set('upstreamCode', codeString);
    const looksLikeProcess = prop(current, 'signal') !== undefined || prop(current, 'killed') !== undefined || prop(current, 'cmd') !== undefined;
    if (typeof rawCode === 'number' && looksLikeProcess) set('cliExitCode', int(rawCode));
    set('errno', str(prop(current, 'errno')));

    // Node child_process and CLI results.
    const syscall = str(prop(current, 'syscall'));
    if (syscall !== null && /^spawn\b/.test(syscall)) set('operation', 'cli_spawn');
    set('cliExitCode', int(prop(current, 'exitCode')) ?? int(prop(current, 'exit_code')));
    set('cliSignal', str(prop(current, 'signal')));
    const stderr = str(prop(current, 'stderr')) ?? str(prop(current, 'stderrTail'));
    if (stderr !== null) set('stderrTail', truncateTextStart(stderr, MAX_MESSAGE));
    if (prop(current, 'timedOut') === true) set('timeoutKind', 'cli_exec');
    if (typeof prop(current, 'terminationRequested') === 'boolean') set('terminationRequested', prop(current, 'terminationRequested') as boolean);

    // Modal: sandbox classes by name; generic Modal names only when no HTTP status says otherwise.
    if (lookup(SANDBOX_CLASS_CODES, name) !== undefined) set('sandboxErrorClass', name);
    else if (name !== null && MODAL_GENERIC_CLASSES.has(name) && status === null) set('sandboxErrorClass', name);

    current = prop(current, 'cause');
  }

  set('exceptionType', exceptionType ?? outerType);
  const chain = messages.length > 0 ? messages : wrapperMessages;
  if (chain.length > 0) set('message', truncateText(chain.join(': '), MAX_MESSAGE));
  return out;
}
