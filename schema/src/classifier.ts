/**
 * The classifier: turns whatever is known about a failure into one catalog code, and says which
 * rule decided and on what signal. The SDK runs it in-process on thrown values; the collector runs
 * it on spans that carry no catalog code. Pure, synchronous, never throws.
 *
 * Precedence (DESIGN §4, failure-taxonomy §2), first match wins; specific beats generic:
 *  1. an explicit known catalog code;
 *  2. typed signals: Temporal timeout type (attribute, or the Temporal server's own "activity
 *     StartToClose timeout" text), our timeout kind, openclaw failover reason, cancellation, local
 *     coordination, Modal error classes, sandbox and CLI exit codes, and the exact strings the
 *     seed systems and agent CLIs print;
 *  3. the layer the span names: tool and MCP spans, sandbox/worker/delivery operations;
 *  4. provider texts and codes that beat the status (a subscription usage limit, Gemini's quota
 *     429, a Bedrock throttle, billing text on a 400, insufficient_quota on a 429, 529, context
 *     overflow, "API key not valid" on a 400);
 *  5. HTTP status and 6. gRPC status, when they are an upstream answer (not the app's own SERVER
 *     span, not a peer known to be something else); 7. provider error type/code; 8. provider texts;
 *  9. network failures and generic words ("timeout", "rate limit") — only with evidence of a
 *     provider call;
 * 10. the layer's own fallback (a Temporal activity, a sandbox, a CLI), wrapper texts, operations;
 * 11. the unknown codes: the provider one only with evidence of a provider call (a GenAI client
 *     span, a provider host, a provider SDK error type or text), else the neutral one — a runtime's
 *     own TypeError, a database error or the app's own HTTP 500 is never blamed on a provider.
 *
 * Every regex here is linear (no nested or overlapping quantifiers) and scans at most 8000
 * characters of each text, so hostile input costs one pass. Pure: no node:* imports; this file
 * also runs in the browser dashboard.
 */
import { isCatalogCode, PROVIDER_UNKNOWN_CODE, UNKNOWN_CODE } from './catalog.ts';
import type { Classification, ClassifierInput } from './classifier-types.ts';
import { normalizeExceptionType, type ExceptionTypeName } from './exception-type.ts';
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
function lookup<T>(table: Record<string | number, T>, key: string | number | null | undefined): T | undefined {
  return key !== null && key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
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

/** Regexes below scan at most this much of each text (head and tail), so a huge stderr costs little. */
const MAX_TEXT = 4000;
function clip(text: string): string {
  return text.length <= MAX_TEXT * 2 ? text : `${text.slice(0, MAX_TEXT)}\n${text.slice(-MAX_TEXT)}`;
}

/** A signal as an operator reads it: `exception.type="TimeoutFailure"`, `message~"credit balance is too low"`. */
function quote(value: string): string {
  const flat = value.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 119)}…` : flat);
}
const said = (label: string, value: string | number): string => `${label}=${typeof value === 'number' ? value : quote(value)}`;
const matched = (label: string, value: string): string => `${label}~${quote(value)}`;

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
/** The Temporal server's spelling in failure messages ("activity StartToClose timeout"). */
const TEMPORAL_CAMEL: Record<string, string> = {
  starttoclose: 'START_TO_CLOSE',
  scheduletostart: 'SCHEDULE_TO_START',
  scheduletoclose: 'SCHEDULE_TO_CLOSE',
  heartbeat: 'HEARTBEAT',
};

export function normalizeTemporalTimeoutType(value: unknown): string | null {
  const n = int(value);
  if (n !== null) return lookup(TEMPORAL_PROTO, n) ?? null;
  const s = str(value);
  if (s === null) return null;
  const upper = s.trim().toUpperCase().replace(/^TIMEOUT_TYPE_/, '');
  if (lookup(TEMPORAL_TIMEOUT_CODES, upper) !== undefined) return upper;
  return lookup(TEMPORAL_CAMEL, s.trim().toLowerCase().replace(/[_-]/g, '')) ?? null;
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
  FilesystemExecutionError: 'AGT-SANDBOX-EXEC-FAILED',
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
  deploymentnotfound: 'AGT-PROVIDER-MODEL-NOT-FOUND',
  request_too_large: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
  context_length_exceeded: 'AGT-PROVIDER-CONTEXT-OVERFLOW',
  rate_limit_error: 'AGT-PROVIDER-RATE-LIMIT',
  rate_limit_exceeded: 'AGT-PROVIDER-RATE-LIMIT',
  resource_exhausted: 'AGT-PROVIDER-RATE-LIMIT',
  usage_limit: 'AGT-PROVIDER-RATE-LIMIT',
  usage_limit_reached: 'AGT-PROVIDER-RATE-LIMIT',
  throttling_error: 'AGT-PROVIDER-RATE-LIMIT',
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

/** Network errnos: a connection failed or timed out. Which peer it was decides whose fault. */
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
  'ERR_STREAM_PREMATURE_CLOSE',
]);
/** Exception classes that are a network failure by name (undici, httpx, requests, aiohttp, Java, AWS SDK). */
const NETWORK_TYPES = new Set([
  'ConnectTimeoutError',
  'HeadersTimeoutError',
  'BodyTimeoutError',
  'SocketError',
  'ConnectTimeout',
  'ReadTimeout',
  'WriteTimeout',
  'PoolTimeout',
  'ConnectError',
  'RemoteProtocolError',
  'ClientConnectorError',
  'ServerDisconnectedError',
  'SocketTimeoutException',
  'ConnectException',
  'UnknownHostException',
  'TimeoutError',
  'APIConnectionError',
  'APIConnectionTimeoutError',
  'APITimeoutError',
  'RequestTimeoutError',
  'TimeoutException',
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
/** Gemini CLI's fatal error classes carry the same meanings as their exit codes. */
const CLI_FATAL_TYPES: Record<string, string> = {
  FatalAuthenticationError: 'AGT-CLI-AUTH-REQUIRED',
  FatalInputError: 'AGT-CLI-NONZERO-EXIT',
  FatalSandboxError: 'AGT-SANDBOX-CREATE-FAILED',
  FatalConfigError: 'AGT-CLI-NONZERO-EXIT',
  FatalTurnLimitedError: 'AGT-CLI-TURN-LIMIT',
  FatalToolExecutionError: 'AGT-TOOL-FAILED',
  FatalCancellationError: 'AGT-SESSION-CANCELLED',
};

/** A worker that cannot import its code never starts (stigmer's STARTUP FAILURE). */
const STARTUP_TYPES = new Set(['ImportError', 'ModuleNotFoundError']);

const CANCEL_TYPES = new Set([
  'CancelledFailure',
  'TerminatedFailure',
  'AbortError',
  'CancelledError',
  'CanceledError',
  'APIUserAbortError',
  'WorkflowCancelledError',
]);
const COORDINATION_TYPES = new Set([
  'SessionWriteLockTimeoutError',
  'SessionWriteLockStaleError',
  'GatewayDrainingError',
  'WorkerRunnerUnavailableError',
  'WorkerRunnerCapacityError',
  'WorkerWorkspaceReconciliationError',
  'ActiveTurnClaimError',
  // Temporal: another run with this workflow id is already running.
  'WorkflowExecutionAlreadyStartedError',
  'WorkflowAlreadyStartedError',
]);
/** Temporal failure classes (TS `@temporalio/common`, Python `temporalio.exceptions`, Go `temporal`). */
const TEMPORAL_TYPES = new Set([
  'ActivityFailure',
  'ApplicationFailure',
  'ChildWorkflowFailure',
  'TimeoutFailure',
  'ServerFailure',
  'WorkflowFailedError',
  'WorkflowExecutionFailedError',
  'ActivityError',
  'ApplicationError',
  'ChildWorkflowError',
  'WorkflowExecutionError',
]);

/** The program's own mistakes (V8, CPython, the JVM, the Go runtime): never a provider's. */
const RUNTIME_BUG_TYPES = new Set([
  'TypeError',
  'ReferenceError',
  'SyntaxError',
  'RangeError',
  'EvalError',
  'URIError',
  'KeyError',
  'ValueError',
  'AttributeError',
  'IndexError',
  'NameError',
  'ZeroDivisionError',
  'AssertionError',
  'UnboundLocalError',
  'RecursionError',
  'NotImplementedError',
  'JSONDecodeError',
  'ValidationError',
  'ZodError',
  'NullPointerException',
  'IllegalArgumentException',
  'IllegalStateException',
  'ClassCastException',
  'ArrayIndexOutOfBoundsException',
  'NumberFormatException',
  'TypeAssertionError',
  'boundsError',
]);
/** Database clients' errors (node-postgres, postgres.js, Prisma, Mongo, TypeORM, Sequelize). */
const DATABASE_TYPES = new Set([
  'PostgresError',
  'DatabaseError',
  'PrismaClientKnownRequestError',
  'PrismaClientInitializationError',
  'PrismaClientUnknownRequestError',
  'MongoServerError',
  'MongoNetworkError',
  'QueryFailedError',
  'SequelizeDatabaseError',
  'SequelizeUniqueConstraintError',
  'DrizzleQueryError',
  'SqliteError',
  'ReplyError',
]);
const DATABASE_NAMESPACE = /^(psycopg2?|psycopg\.errors|asyncpg|sqlalchemy|pymongo|redis|sqlite3|mysql|pymysql|django\.db|github\.com\/jackc\/pgx|github\.com\/lib\/pq|pq|pgconn|org\.postgresql|java\.sql)\b/;

// ── provider evidence ──────────────────────────────────────────────────────────────────────────

/** GenAI operation names (gen_ai.operation.name) that are a call to a model. */
const MODEL_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings', 'completion', 'responses', 'create_response']);
/** Span names of model calls: GenAI conventions (`chat {model}`), Vercel AI SDK (`ai.generateText.doGenerate`), OpenLLMetry (`anthropic.chat`). */
const MODEL_SPAN_NAME =
  /^(?:chat|text_completion|generate_content|embeddings)(?: |$)|^ai\.(?:generateText|streamText|generateObject|streamObject|embed|embedMany)\b|^(?:anthropic|openai|gemini|bedrock|vertexai|cohere|mistral|groq)\.(?:chat|completion|messages|responses|generate)/i;
/** Hosts of model APIs (and the CLI agents' own backends). */
const PROVIDER_HOST =
  /(?:^|\.)(?:api\.anthropic\.com|api\.openai\.com|openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com|generativelanguage\.googleapis\.com|aiplatform\.googleapis\.com|cloudcode-pa\.googleapis\.com|amazonaws\.com|api\.mistral\.ai|api\.cohere\.(?:com|ai)|api\.groq\.com|api\.deepseek\.com|api\.x\.ai|openrouter\.ai|api\.together\.xyz|api\.fireworks\.ai|api\.perplexity\.ai|chatgpt\.com)$/i;
/** Hosts named inside a message (a URL or "attempted address: api.openai.com:443"). */
const PROVIDER_HOST_IN_TEXT =
  /\b(?:api\.anthropic\.com|api\.openai\.com|[a-z0-9-]{1,63}\.openai\.azure\.com|generativelanguage\.googleapis\.com|[a-z0-9-]{1,63}-aiplatform\.googleapis\.com|cloudcode-pa\.googleapis\.com|bedrock-runtime\.[a-z0-9-]{1,30}\.amazonaws\.com|api\.mistral\.ai|api\.groq\.com|api\.deepseek\.com|openrouter\.ai|chatgpt\.com\/backend-api)\b/i;
const PROVIDER_RPC = /BedrockRuntime|bedrock|generativelanguage|aiplatform|PredictionService|GenerativeService/i;
/** Module paths of provider SDKs as Python, Go and Java record them. */
const PROVIDER_NAMESPACE =
  /^(?:anthropic|openai|google\.genai|google\.generativeai|google\.ai\.generativelanguage|vertexai|mistralai|cohere|groq|litellm|langchain_(?:anthropic|openai|google_genai|aws)|com\.anthropic|com\.openai|github\.com\/anthropics|github\.com\/openai|github\.com\/sashabaranov\/go-openai)\b/;
/** Class names only provider SDKs throw (as OpenTelemetry JS records them). */
const PROVIDER_TYPE_NAMES = new Set([
  'AnthropicError',
  'OpenAIError',
  'APIConnectionError',
  'APIConnectionTimeoutError',
  'APITimeoutError',
  'AI_APICallError',
  'AI_RetryError',
  'AI_LoadAPIKeyError',
  'AI_NoContentGeneratedError',
  'AI_NoOutputGeneratedError',
  'AI_NoObjectGeneratedError',
  'GoogleGenerativeAIError',
  'GoogleGenerativeAIFetchError',
  'GoogleGenerativeAIResponseError',
  'ThrottlingException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'ModelErrorException',
  'ModelStreamErrorException',
  'FailoverError',
]);
/** Product and API names in a message. */
const PROVIDER_TEXT =
  /\b(?:Anthropic|OpenAI|Azure OpenAI|Gemini|Vertex AI|Bedrock|Generative Language API|Mistral|DeepSeek|OpenRouter)\b|\bAI (?:service|provider)\b|\bLLM request\b|^\W{0,3}API Error\b|\[API Error:/m;

interface Facts {
  input: ClassifierInput;
  /** Message, cause chain and stderr tail, clipped. */
  text: string;
  types: ExceptionTypeName[];
  typeNames: ReadonlySet<string>;
  status: number | null;
  statusLabel: string;
  upstreamType: string | null;
  upstreamCode: string | null;
  errno: string | null;
  op: OperationKind | null;
  terminationRequested: boolean;
  cliExit: number | null;
  signal: string | null;
  isTool: boolean;
  spanName: string;
  spanKind: string | null;
  scope: string;
  rpcService: string;
  grpcStatus: number | null;
  serverAddress: string | null;
}

function typeSignal(t: ExceptionTypeName): string {
  return said('exception.type', t.raw);
}

/** The first sign that this failure came from a call to a model, said as a signal; null when there is none. */
function providerEvidence(f: Facts): string | null {
  const i = f.input;
  const provider = str(i.providerName);
  const op = str(i.genAiOperation)?.toLowerCase() ?? null;
  if (op !== null && MODEL_OPERATIONS.has(op)) return said('gen_ai.operation.name', op);
  if (provider !== null && (f.spanKind === 'client' || MODEL_SPAN_NAME.test(f.spanName))) {
    return `${said('gen_ai provider', provider)} on span ${quote(f.spanName || '(unnamed)')}`;
  }
  if (MODEL_SPAN_NAME.test(f.spanName)) return said('span name', f.spanName);
  if (f.serverAddress !== null && PROVIDER_HOST.test(f.serverAddress)) return said('server.address', f.serverAddress);
  if (f.rpcService !== '' && PROVIDER_RPC.test(f.rpcService)) return said('rpc.service', f.rpcService);
  for (const t of f.types) {
    if (t.namespace !== '' && PROVIDER_NAMESPACE.test(t.namespace)) return typeSignal(t);
    if (PROVIDER_TYPE_NAMES.has(t.name)) return typeSignal(t);
    if (t.kind === 'api-code' && (lookup(UPSTREAM_CODES, t.name) !== undefined || BILLING_UPSTREAM.has(t.name))) return typeSignal(t);
  }
  if (f.upstreamType !== null) return said('provider error type', f.upstreamType);
  if (f.upstreamCode !== null) return said('provider error code', f.upstreamCode);
  const reason = str(i.failoverReason);
  if (reason !== null) return said('failover reason', reason);
  const host = PROVIDER_HOST_IN_TEXT.exec(f.text);
  if (host !== null) return matched('message', host[0]);
  const name = PROVIDER_TEXT.exec(f.text);
  if (name !== null) return matched('message', name[0]);
  return null;
}

/** A Temporal layer known from the span name, the instrumentation scope, the RPC service or the type. */
function temporalLayer(f: Facts): string | null {
  if (/^(?:StartWorkflow|RunWorkflow|StartActivity|RunActivity|StartChildWorkflow|SignalWorkflow|SignalWithStartWorkflow|ContinueAsNew|StartNexusOperation|HandleSignal|HandleQuery|HandleUpdate|ValidateUpdate|StartWorkflowUpdate|QueryWorkflow)[:\s]/.test(f.spanName)) {
    return said('span name', f.spanName);
  }
  if (/temporal/i.test(f.scope)) return said('scope', f.scope);
  if (/^temporal\.api\./.test(f.rpcService)) return said('rpc.service', f.rpcService);
  for (const t of f.types) {
    if (t.namespace.startsWith('temporalio') || (TEMPORAL_TYPES.has(t.name) && (t.namespace === '' || /^(?:temporal|internal|io\.temporal)/.test(t.namespace)))) {
      return typeSignal(t);
    }
  }
  return null;
}

/** A sandbox layer (Modal) known from the type's module, the scope, the RPC service or the span name. */
function sandboxLayer(f: Facts): string | null {
  for (const t of f.types) if (t.namespace.startsWith('modal')) return typeSignal(t);
  if (/\bmodal\b/i.test(f.scope)) return said('scope', f.scope);
  if (/^modal\./.test(f.rpcService)) return said('rpc.service', f.rpcService);
  if (/\bsandbox\b/i.test(f.spanName)) return said('span name', f.spanName);
  return null;
}

// ── message patterns ───────────────────────────────────────────────────────────────────────────

type Pattern = readonly [rule: string, re: RegExp, code: string];

/**
 * Exact strings the seed systems and agent CLIs print. They name the layer that failed, so they
 * rank with the typed signals, ahead of any status code.
 */
const SEED_PATTERNS: readonly Pattern[] = [
  [
    'modal-context-required',
    /Modal context is required|MODAL_TOKEN_(?:ID|SECRET) (?:is )?(?:not set|missing)|Token missing\. Could not authenticate client/i,
    'AGT-SANDBOX-CONFIG-MISSING',
  ],
  ['cli-not-in-path', /\bCLI not found in PATH\b|\bspawn\s+\S{1,200}\s+ENOENT\b|\bcommand not found\b/i, 'AGT-CLI-NOT-FOUND'],
  ['cli-exec-timed-out', /\bexec timed out\b/i, 'AGT-TIMEOUT-CLI-EXEC'],
  [
    'cli-auth-text',
    /No authentication information found|Please run \/login|Session was not created with authentication info|not logged in\b.{0,80}\blogin\b|Please set an Auth method/i,
    'AGT-CLI-AUTH-REQUIRED',
  ],
  [
    'cli-max-turns',
    /\berror_max_turns\b|reached (?:the )?max(?:imum)? (?:number of )?(?:session )?turns/i,
    'AGT-CLI-TURN-LIMIT',
  ],
  ['t3-provider-mismatch', /cannot switch models|is bound to driver|unknown provider instance/i, 'AGT-SESSION-PROVIDER-MISMATCH'],
  ['t3-stale-request', /Stale pending (?:approval|user[- ]input)/i, 'AGT-SESSION-STALE-REQUEST'],
  [
    'local-coordination',
    /session file locked|OPENCLAW_SESSION_WRITE_LOCK|write[- ]lock (?:timeout|timed out)|(?:attempt|session) takeover|taken over by another|failed to acquire (?:the )?(?:session )?lock|Workflow execution (?:is )?already (?:started|running)/i,
    'AGT-WORKER-LOCAL-COORDINATION',
  ],
  ['worker-startup', /STARTUP FAILURE|\bImportError\b|\bModuleNotFoundError\b|No module named ['"]?\w/, 'AGT-WORKER-STARTUP-FAILED'],
  [
    'tool-denied',
    /Permission denied and could not request permission|requested permissions to .{1,300}? but you haven't granted it yet|\btool(?:_use| use| call)? (?:was )?denied\b|Tool execution (?:was )?denied/i,
    'AGT-TOOL-DENIED',
  ],
  [
    'interrupt-failed',
    /provider\.turn\.interrupt\.failed|failed to interrupt|interrupt(?:ion)? (?:request )?(?:failed|timed out)/i,
    'AGT-SESSION-INTERRUPT-FAILED',
  ],
  [
    'persist-failed',
    /Failed to (?:update|save|persist|write|store) (?:the )?(?:execution )?(?:status|history|message|session)/i,
    'AGT-DELIVERY-PERSIST-FAILED',
  ],
  ['sandbox-image-build', /image build (?:failed|terminated)|image build for \S{1,100} (?:failed|terminated)|failed to (?:create|start) (?:the )?sandbox/i, 'AGT-SANDBOX-CREATE-FAILED'],
  // stigmer's top-level catch wraps failures outside the execution loop, i.e. initialisation.
  ['stigmer-system-error', /^\s*System error:/im, 'AGT-WORKER-INIT-FAILED'],
  ['sandbox-timed-out', /\bsandbox (?:has )?(?:timed out|reached its (?:time|lifetime) limit)/i, 'AGT-SANDBOX-TIMEOUT'],
];

/** A full disk stops the workspace's file operations (ENOSPC, Python `[Errno 28]`, tar). */
const DISK_FULL_TEXT = /\bENOSPC\b|No space left on device|\[Errno 28\]/i;

/** The Temporal server's own timeout texts ("activity StartToClose timeout", Go's "(type: StartToClose)"). */
const TEMPORAL_TIMEOUT_TEXT =
  /\bactivity (StartToClose|ScheduleToStart|ScheduleToClose|Heartbeat) timeout\b|\btimeout \(type: (StartToClose|ScheduleToStart|ScheduleToClose|Heartbeat)\)|\bTimeoutType: (START_TO_CLOSE|SCHEDULE_TO_START|SCHEDULE_TO_CLOSE|HEARTBEAT)\b/i;

/** Subscription windows of agent products: the limit resets, so it is a rate limit, not billing. */
const USAGE_LIMIT_TEXT = /hit your usage limit|\bClaude AI usage limit reached\b|\busage_limit_reached\b|usage limit (?:has been )?reached|\bhit your limit\b/i;
/** Gemini answers 429 RESOURCE_EXHAUSTED with "check your plan and billing" for per-minute quotas too. */
const GOOGLE_QUOTA_TEXT = /RESOURCE_EXHAUSTED|Resource has been exhausted|Quota exceeded for quota metric|ai\.google\.dev\/gemini-api\/docs\/rate-limits/i;
/** Bedrock and AWS throttles ("Too many tokens, please wait before trying again."). */
const THROTTLE_TEXT = /\bThrottlingException\b|Too many (?:tokens|requests)(?: per day)?, please wait before trying again|\bRate exceeded\b/i;
const BILLING_TEXT =
  /credit balance (?:is )?too low|insufficient[_ ](?:credits?|balance|funds|quota)|exceeded your current quota|check your plan and billing|plans? & billing|spend(?:ing)? limit|billing hard limit|payment required|out of credits|purchase (?:more )?credits|add a payment method/i;
const CONTEXT_TEXT =
  /ran out of room in the model's context window|context[_ ]length[_ ]exceeded|maximum context length|context window (?:is )?(?:exceeded|full)|exceeds? the context window|prompt is too long|input is too long for|input token count \(\d{1,12}\) exceeds the maximum|request_too_large/i;
const API_KEY_TEXT =
  /API key not valid|API_KEY_INVALID|API Key not found|Incorrect API key provided|invalid[ _-]?x-api-key|\bInvalid API key\b|API key is missing\. Pass it using|The security token included in the request is (?:invalid|expired)|\bExpiredTokenException\b|\bUnrecognizedClientException\b|OAuth token (?:has )?expired|Access denied due to invalid subscription key/i;
const PERMISSION_TEXT =
  /User location is not supported|You don't have access to the model with the specified model ID|does not have access to (?:the )?model|not allowed to use (?:this|the) model|(?:key|account|organization) (?:has been|was|is) (?:revoked|disabled|deactivated|suspended)|region (?:is )?not supported|\bpermission_error\b/i;
/** openclaw: "All models failed (2): anthropic/claude-…: … (rate_limit) | openai/gpt-…: …". */
const FAILOVER_EXHAUSTED_TEXT =
  /All models failed \(\d+\)|all (?:models|candidates|profiles|fallbacks) (?:failed|exhausted|are in cooldown)|all (?:models|candidates|profiles|fallbacks) \w{1,40} (?:failed|exhausted|are in cooldown)|no (?:available|remaining) (?:models?|auth profiles?|profiles?|fallbacks?)\b/i;
const OVERLOADED_TEXT = /\boverloaded(?:_error)?\b/i;

/**
 * Texts only model APIs and their SDKs write. Each one is evidence of a provider call by itself,
 * so it may decide a provider code with nothing else known.
 */
const PROVIDER_PATTERNS: readonly Pattern[] = [
  ['turn-idle-text', /\[llm-idle-timeout\]|stream (?:stalled|went idle)|stalledForMs/i, 'AGT-TIMEOUT-TURN-IDLE'],
  [
    'session-expired-text',
    /No conversation found with session ID|session (?:id )?(?:not found|has expired|expired)|thread not found|could not resume/i,
    'AGT-PROVIDER-SESSION-EXPIRED',
  ],
  ['auth-text', /\bauthentication_error\b|invalid bearer token/i, 'AGT-PROVIDER-AUTH'],
  [
    'rate-limit-text',
    /\brate_limit_error\b|\brate_limit_exceeded\b|API rate limit reached|exceed the rate limit for your organization|exceeded (?:token|call) rate limit|Rate limit reached for\b|on tokens per min|requests per min(?:ute)? \(RPM\)/i,
    'AGT-PROVIDER-RATE-LIMIT',
  ],
  [
    'overloaded-text',
    /\boverloaded_error\b|The model is overloaded|experiencing high demand|AI service is temporarily overloaded|engine is currently overloaded|Bedrock is unable to process your request|ServiceUnavailableException/i,
    'AGT-PROVIDER-OVERLOADED',
  ],
  [
    'model-not-found-text',
    /\bmodel_not_found\b|\bnot_found_error\b|The model `[^`\n]{1,200}` does not exist|issue with the selected model|is not found for API version|The API deployment for this resource does not exist|provided model identifier is invalid|with on-demand throughput isn.t supported|\bno such model\b|\bunknown model\b/i,
    'AGT-PROVIDER-MODEL-NOT-FOUND',
  ],
  [
    'provider-timeout-text',
    /stream disconnected before completion|\bLLM request timed out\b|\bModelTimeoutException\b/i,
    'AGT-PROVIDER-TIMEOUT',
  ],
  [
    'server-error-text',
    /\bapi_error\b|The server had an error while processing your request|An internal error has occurred|\bModelErrorException\b/i,
    'AGT-PROVIDER-SERVER-ERROR',
  ],
  [
    'empty-response-text',
    /empty (?:response|completion|reply|answer)|returned no (?:content|text|output)|no (?:content|text) in (?:the )?response|no_error_details|No output generated/i,
    'AGT-PROVIDER-EMPTY-RESPONSE',
  ],
  [
    'format-text',
    /\binvalid_request_error\b|tool_use_id|tool_result block|must end with a user message|roles must alternate|Malformed input request|maximum tokens you requested exceeds? the model limit/i,
    'AGT-PROVIDER-FORMAT',
  ],
  [
    'stream-disconnected-client',
    /websocket (?:connection )?(?:closed|disconnected|lost)|event ?source (?:connection )?(?:lost|closed|failed)|sse (?:connection|stream) (?:lost|closed|dropped)|\breconnecting\b/i,
    'AGT-DELIVERY-STREAM-DISCONNECTED',
  ],
];

/** Words any service writes: a provider code only when something else shows a model was called. */
const GENERIC_PATTERNS: readonly Pattern[] = [
  ['auth-generic', /\bunauthori[sz]ed\b|\b401\b|invalid[ _-]?api[ _-]?key|\bunauthenticated\b/i, 'AGT-PROVIDER-AUTH'],
  ['rate-limit-generic', /rate[ _-]?limit|too many requests|resource[_ ]exhausted|tokens per min|requests per min|\b429\b/i, 'AGT-PROVIDER-RATE-LIMIT'],
  ['overloaded-generic', /overloaded|at capacity|high demand|temporarily unavailable|service unavailable|\b52[09]\b|\b503\b/i, 'AGT-PROVIDER-OVERLOADED'],
  ['model-not-found-generic', /\bmodel\b[^.\n]{0,80}\b(?:not found|does not exist|is not available|not supported)/i, 'AGT-PROVIDER-MODEL-NOT-FOUND'],
  [
    'network-timeout-generic',
    /timed out|\btimeout\b|ETIMEDOUT|ECONNRESET|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|\bUND_ERR_[A-Z_]{2,30}|socket hang up|fetch failed|stream closed|network[_ ]error|premature close|connection (?:reset|refused|error)|other side closed|Connection error\.|Unable to connect to API/i,
    'AGT-PROVIDER-TIMEOUT',
  ],
  ['server-error-generic', /internal server error|\bserver_error\b|bad gateway|\b50[02]\b/i, 'AGT-PROVIDER-SERVER-ERROR'],
];

/** Wrappers whose own message says less than their cause. Matched late, after provider rules. */
const LATE_PATTERNS: readonly Pattern[] = [
  ['stigmer-execution-failed', /^\s*Execution failed:/im, 'AGT-WORKER-EXECUTION-FAILED'],
  [
    'turn-start-failed-text',
    /provider\.turn\.start\.failed|failed to (?:start|send) (?:the )?turn|sendTurn failed/i,
    'AGT-SESSION-TURN-START-FAILED',
  ],
  [
    'provider-exited-text',
    /provider (?:process|session) exited|session\.exited|process exited (?:unexpectedly|with (?:exit )?code [1-9])/i,
    'AGT-SESSION-PROVIDER-EXITED',
  ],
  ['cli-failed-text', /\bCLI failed\b/i, 'AGT-CLI-NONZERO-EXIT'],
];

/** Every regex the built-in rules use, for the linearity test. */
export const CLASSIFIER_REGEXES: readonly RegExp[] = [
  ...[SEED_PATTERNS, PROVIDER_PATTERNS, GENERIC_PATTERNS, LATE_PATTERNS].flatMap((list) => list.map(([, re]) => re)),
  TEMPORAL_TIMEOUT_TEXT,
  DISK_FULL_TEXT,
  USAGE_LIMIT_TEXT,
  GOOGLE_QUOTA_TEXT,
  THROTTLE_TEXT,
  BILLING_TEXT,
  CONTEXT_TEXT,
  API_KEY_TEXT,
  PERMISSION_TEXT,
  FAILOVER_EXHAUSTED_TEXT,
  OVERLOADED_TEXT,
  MODEL_SPAN_NAME,
  PROVIDER_HOST,
  PROVIDER_HOST_IN_TEXT,
  PROVIDER_RPC,
  PROVIDER_NAMESPACE,
  PROVIDER_TEXT,
  DATABASE_NAMESPACE,
];

function matchPatterns(patterns: readonly Pattern[], text: string): Classification | null {
  if (text === '') return null;
  for (const [rule, re, code] of patterns) {
    const m = re.exec(text);
    if (m !== null) return { code, rule, signal: matched('message', m[0]) };
  }
  return null;
}

function firstMatch(re: RegExp, text: string): string | null {
  const m = re.exec(text);
  return m === null ? null : m[0];
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
  if (/sandbox[._-]?(?:create|start|provision)|image[._-]?build|environment[._-]?create|ee[._:-]?creat/.test(op)) return 'sandbox_create';
  if (/sandbox[._-]?(?:exec|write|read|fs|file|mkdir)|write[._-]?files|create[._-]?directory/.test(op)) return 'sandbox_exec';
  if (/^(?:tool|execute_tool)\b/.test(op)) return 'tool';
  if (/persist|history[._-]?write|status[._-]?write|save[._-]?history/.test(op)) return 'persist';
  // Not a bare "stream": that could as well be the provider's response stream.
  if (/^(?:client[._-]?stream|deliver|broadcast|websocket|sse)\b/.test(op)) return 'stream';
  if (/worker[._-]?(?:startup|start|boot)/.test(op)) return 'worker_startup';
  if (/worker[._-]?init|activity[._-]?init/.test(op)) return 'worker_init';
  if (/turn[._-]?start|send[._-]?turn/.test(op)) return 'turn_start';
  if (/interrupt/.test(op)) return 'interrupt';
  if (/provider[._-]?(?:exit|session)/.test(op)) return 'provider_exit';
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
  'spanName',
  'spanKind',
  'scope',
  'service',
  'grpcStatus',
  'rpcService',
  'providerName',
  'genAiOperation',
  'serverAddress',
  'attributes',
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
    return { code: UNKNOWN_CODE, rule: 'classifier-error', signal: null };
  }
}

/** HTTP status → provider code. */
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

/** gRPC status codes (google.rpc.Code) as the HTTP status a provider's REST API answers for them. */
const GRPC_AS_HTTP: Record<number, number> = { 3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401 };

function facts(f: ClassifierInput, extraText: string | null): Facts {
  const message = str(f.message);
  const stderr = str(f.stderrTail);
  const text = clip([message, extraText, stderr].filter((t): t is string => t !== null).join('\n'));
  const types: ExceptionTypeName[] = [];
  const exceptionType = normalizeExceptionType(f.exceptionType);
  if (exceptionType !== null) types.push(exceptionType);
  // A non-catalog `error.type` is the semconv's class name, errno or status code: one more type signal.
  const code = str(f.code)?.trim() ?? null;
  const foreign = code !== null && !isCatalogCode(code) ? normalizeExceptionType(code) : null;
  let status = int(f.httpStatus);
  let statusLabel = 'http.response.status_code';
  if (foreign !== null) {
    const asStatus = foreign.kind === 'number' ? Number(foreign.name) : NaN;
    if (status === null && asStatus >= 400 && asStatus <= 599) {
      status = asStatus;
      statusLabel = 'error.type';
    } else if (!types.some((t) => t.raw === foreign.raw)) types.push(foreign);
  }
  if (status !== null && (status < 100 || status > 599)) status = null;
  const errnoFromType = types.find((t) => t.kind === 'errno')?.name ?? null;
  return {
    input: f,
    text,
    types,
    typeNames: new Set(types.map((t) => t.name)),
    status,
    statusLabel,
    upstreamType: str(f.upstreamType)?.trim().toLowerCase() ?? null,
    upstreamCode: str(f.upstreamCode)?.trim().toLowerCase() ?? null,
    errno: str(f.errno)?.trim().toUpperCase() ?? errnoFromType,
    op: operationKind(str(f.operation)),
    terminationRequested: bool(f.terminationRequested),
    cliExit: int(f.cliExitCode),
    signal: str(f.cliSignal)?.trim().toUpperCase() ?? null,
    isTool: bool(f.isTool) || operationKind(str(f.operation)) === 'tool',
    spanName: str(f.spanName) ?? '',
    spanKind: str(f.spanKind)?.toLowerCase() ?? null,
    scope: str(f.scope) ?? '',
    rpcService: str(f.rpcService) ?? '',
    grpcStatus: int(f.grpcStatus),
    serverAddress: str(f.serverAddress)?.trim().toLowerCase() ?? null,
  };
}

/** A span about a child process (semconv `process.*`), not a file the program opened. */
function processSpan(input: ClassifierInput): boolean {
  const attrs = input.attributes;
  return attrs !== null && attrs !== undefined && ['process.command', 'process.executable.name', 'process.executable.path'].some((k) => Object.hasOwn(attrs, k));
}

/** The first type whose name is in `names`, as a signal. */
function typeIn(f: Facts, names: ReadonlySet<string>): ExceptionTypeName | null {
  return f.types.find((t) => names.has(t.name)) ?? null;
}

function classifyUnsafe(input: ClassifierInput): Classification {
  if (input === null || typeof input !== 'object') return { code: UNKNOWN_CODE, rule: 'no-input', signal: null };
  const { merged, extraText } = mergeInput(input);
  const f = facts(merged, extraText);
  const { text, status, op, cliExit, signal, terminationRequested } = f;
  const hit = (code: string, rule: string, why: string | null): Classification => ({ code, rule, signal: why });

  // 1. An explicit catalog code. The unknown codes are not a decision, so we try to do better.
  const code = str(merged.code)?.trim() ?? null;
  if (isCatalogCode(code) && code !== UNKNOWN_CODE && code !== PROVIDER_UNKNOWN_CODE) return hit(code, 'explicit-code', said('error.type', code));

  // 2. Typed signals.
  const temporal = normalizeTemporalTimeoutType(merged.temporalTimeoutType);
  const temporalCode = lookup(TEMPORAL_TIMEOUT_CODES, temporal);
  if (temporalCode !== undefined) return hit(temporalCode, 'temporal-timeout', said('temporal timeout type', String(merged.temporalTimeoutType)));
  // The Temporal server writes the timeout type into the failure message; SDKs and Go's errors keep it.
  const temporalText = TEMPORAL_TIMEOUT_TEXT.exec(text);
  if (temporalText !== null) {
    const type = normalizeTemporalTimeoutType(temporalText[1] ?? temporalText[2] ?? temporalText[3]);
    const byText = lookup(TEMPORAL_TIMEOUT_CODES, type);
    if (byText !== undefined) return hit(byText, 'temporal-timeout-text', matched('message', temporalText[0]));
  }

  const timeoutKind = str(merged.timeoutKind)?.trim().toLowerCase() ?? null;
  const timeoutCode = lookup(TIMEOUT_KIND_CODES, timeoutKind);
  if (timeoutCode !== undefined) return hit(timeoutCode, 'timeout-kind', said('faultline.timeout.kind', timeoutKind!));

  const reason = str(merged.failoverReason)?.trim().toLowerCase() ?? null;
  const reasonCode = lookup(FAILOVER_REASON_CODES, reason);
  if (reasonCode !== undefined) return hit(reasonCode, 'failover-reason', said('failover reason', reason!));

  // DOMException codes as OpenTelemetry JS records them: 20 is AbortError, 23 TimeoutError.
  const domCode = f.types.find((t) => t.kind === 'number' && (t.name === '20' || t.name === '23'));
  const abortTimeout =
    f.types.find((t) => t.name === 'TimeoutError' && t.namespace === '') ??
    (domCode?.name === '23' || (domCode?.name === '20' && /timed? ?out|timeout/i.test(text)) ? domCode : undefined);
  if (abortTimeout !== undefined) {
    const evidence = providerEvidence(f);
    return evidence !== null
      ? hit('AGT-PROVIDER-TIMEOUT', 'abort-timeout', `${typeSignal(abortTimeout)}; ${evidence}`)
      : hit(UNKNOWN_CODE, 'timeout-no-provider', typeSignal(abortTimeout));
  }
  const cancelType = typeIn(f, CANCEL_TYPES) ?? (domCode?.name === '20' && /abort/i.test(text) ? domCode : null);
  if (cancelType !== null) {
    if (/timed? ?out|timeout/i.test(text) && providerEvidence(f) !== null) return hit('AGT-PROVIDER-TIMEOUT', 'abort-timeout', typeSignal(cancelType));
    return hit('AGT-SESSION-CANCELLED', 'cancelled', typeSignal(cancelType));
  }
  const coordination = typeIn(f, COORDINATION_TYPES);
  if (coordination !== null) return hit('AGT-WORKER-LOCAL-COORDINATION', 'local-coordination-type', typeSignal(coordination));
  // Temporal's StartWorkflowExecution answers ALREADY_EXISTS for a workflow id that is running.
  if (f.grpcStatus === 6 && /^temporal\.api\./.test(f.rpcService)) {
    return hit('AGT-WORKER-LOCAL-COORDINATION', 'temporal-already-started', said('rpc.grpc.status_code', 6));
  }

  const startup = typeIn(f, STARTUP_TYPES);
  if (startup !== null) return hit('AGT-WORKER-STARTUP-FAILED', 'worker-startup-type', typeSignal(startup));
  // Python's subprocess.run(timeout=…) raises TimeoutExpired: the CLI exec timeout (seed 001).
  const cliTimeout = f.types.find((t) => t.name === 'TimeoutExpired' && (t.namespace === 'subprocess' || t.namespace === ''));
  if (cliTimeout !== undefined) return hit('AGT-TIMEOUT-CLI-EXEC', 'cli-timeout-expired', typeSignal(cliTimeout));

  const fatal = f.types.find((t) => lookup(CLI_FATAL_TYPES, t.name) !== undefined);
  if (fatal !== undefined) return hit(CLI_FATAL_TYPES[fatal.name], 'cli-fatal-type', typeSignal(fatal));

  // A missing executable: ENOENT (Node) or FileNotFoundError (Python) while spawning a process.
  const spawning = op === 'cli_spawn' || /\bspawn\s+\S/i.test(text) || processSpan(merged);
  const missing = f.errno === 'ENOENT' ? said('errno', 'ENOENT') : f.typeNames.has('FileNotFoundError') ? said('exception.type', 'FileNotFoundError') : null;
  if (missing !== null && spawning) return hit('AGT-CLI-NOT-FOUND', 'cli-spawn-enoent', missing);

  const seed = matchPatterns(SEED_PATTERNS, text);
  if (seed !== null) return seed;

  const modal = sandboxLayer(f);
  const sandboxType = f.types.find((t) => lookup(SANDBOX_CLASS_CODES, t.name) !== undefined);
  const sandboxClass = str(merged.sandboxErrorClass)?.trim() ?? sandboxType?.name ?? null;
  if (sandboxClass !== null) {
    const specific = lookup(SANDBOX_CLASS_CODES, sandboxClass);
    const why = sandboxType !== undefined ? typeSignal(sandboxType) : said('sandbox error class', sandboxClass);
    if (specific !== undefined) return hit(specific, 'sandbox-class', why);
    if (MODAL_GENERIC_CLASSES.has(sandboxClass)) {
      return op === 'sandbox_exec' ? hit('AGT-SANDBOX-EXEC-FAILED', 'sandbox-class-exec', why) : hit('AGT-SANDBOX-CREATE-FAILED', 'sandbox-class-create', why);
    }
  }
  // Modal's generic classes, known as Modal's by their module, scope or RPC service.
  const modalGeneric = modal !== null ? f.types.find((t) => MODAL_GENERIC_CLASSES.has(t.name)) : undefined;
  if (modalGeneric !== undefined) {
    return op === 'sandbox_exec'
      ? hit('AGT-SANDBOX-EXEC-FAILED', 'sandbox-class-exec', typeSignal(modalGeneric))
      : hit('AGT-SANDBOX-CREATE-FAILED', 'sandbox-class-create', typeSignal(modalGeneric));
  }

  // Exit 137 is SIGKILL: the OOM killer, unless we asked for the termination ourselves.
  const sandboxExit = int(merged.sandboxExitCode);
  if (sandboxExit !== null) {
    const why = said('sandbox exit code', sandboxExit);
    if (sandboxExit === 137) {
      return terminationRequested ? hit('AGT-SANDBOX-TERMINATED', 'sandbox-exit-137-requested', why) : hit('AGT-SANDBOX-OOM', 'sandbox-exit-137-oom', why);
    }
    if (sandboxExit !== 0 && op === 'sandbox_exec') return hit('AGT-SANDBOX-EXEC-FAILED', 'sandbox-exec-exit', why);
    return hit('AGT-SANDBOX-TERMINATED', 'sandbox-exit', why);
  }

  if (cliExit === 137 || signal === 'SIGKILL') {
    const why = cliExit === 137 ? said('exit code', 137) : said('signal', 'SIGKILL');
    return terminationRequested ? hit('AGT-SANDBOX-TERMINATED', 'cli-killed-requested', why) : hit('AGT-SANDBOX-OOM', 'cli-killed-oom', why);
  }
  const exitMeaning = lookup(CLI_EXIT_CODES, cliExit);
  if (exitMeaning !== undefined) return hit(exitMeaning[0], exitMeaning[1], said('exit code', cliExit!));
  if (signal === 'SIGINT') return hit('AGT-SESSION-CANCELLED', 'cli-sigint', said('signal', signal));

  // Claude Code `result` subtypes are typed too.
  if (f.upstreamType === 'error_max_turns' || f.upstreamType === 'error_during_execution') {
    return hit(lookup(UPSTREAM_CODES, f.upstreamType)!, 'claude-result-subtype', said('result subtype', f.upstreamType));
  }

  // 3. The layer that failed decides before provider rules could misread its status.
  if (f.isTool) return hit('AGT-TOOL-FAILED', 'tool-span', f.spanName !== '' ? said('span name', f.spanName) : 'tool span');
  // MCP: JSON-RPC codes (-32000 connection closed, -32001 request timeout, …) come from a tool server.
  const mcpType = f.types.find((t) => t.name === 'McpError' || (t.kind === 'number' && /^-32\d{3}$/.test(t.name)));
  const mcpText = firstMatch(/\bMCP error -?\d{1,6}\b|\bMCP server\b/, text);
  if (mcpType !== undefined || mcpText !== null || /^tools\/call\b/.test(f.spanName)) {
    return hit('AGT-TOOL-FAILED', 'mcp-error', mcpType !== undefined ? typeSignal(mcpType) : mcpText !== null ? matched('message', mcpText) : said('span name', f.spanName));
  }
  const opWhy = said('operation', String(merged.operation));
  switch (op) {
    case 'sandbox_create':
      return hit('AGT-SANDBOX-CREATE-FAILED', 'operation-sandbox-create', opWhy);
    case 'sandbox_exec':
      return hit('AGT-SANDBOX-EXEC-FAILED', 'operation-sandbox-exec', opWhy);
    case 'persist':
      return hit('AGT-DELIVERY-PERSIST-FAILED', 'operation-persist', opWhy);
    case 'stream':
      return hit('AGT-DELIVERY-STREAM-DISCONNECTED', 'operation-stream', opWhy);
    case 'worker_startup':
      return hit('AGT-WORKER-STARTUP-FAILED', 'operation-worker-startup', opWhy);
    case 'worker_init':
      return hit('AGT-WORKER-INIT-FAILED', 'operation-worker-init', opWhy);
    default:
      break;
  }
  const diskFull = firstMatch(DISK_FULL_TEXT, text);
  if (diskFull !== null || f.errno === 'ENOSPC') return hit('AGT-SANDBOX-EXEC-FAILED', 'disk-full', diskFull !== null ? matched('message', diskFull) : said('errno', 'ENOSPC'));

  // 4. Provider texts and codes that beat the status: each is specific to one failure.
  const usage = firstMatch(USAGE_LIMIT_TEXT, text);
  if (usage !== null) return hit('AGT-PROVIDER-RATE-LIMIT', 'usage-limit-text', matched('message', usage));
  const quota = firstMatch(GOOGLE_QUOTA_TEXT, text);
  if (quota !== null) return hit('AGT-PROVIDER-RATE-LIMIT', 'quota-exhausted-text', matched('message', quota));
  const throttleType = f.types.find((t) => t.name === 'ThrottlingException' || t.name === 'ServiceQuotaExceededException');
  const throttle = firstMatch(THROTTLE_TEXT, text);
  if (throttleType !== undefined || throttle !== null) {
    return hit('AGT-PROVIDER-RATE-LIMIT', 'throttle', throttleType !== undefined ? typeSignal(throttleType) : matched('message', throttle!));
  }
  const billingCode = [f.upstreamCode, f.upstreamType, ...f.types.filter((t) => t.kind === 'api-code').map((t) => t.name)].find(
    (v): v is string => v !== null && BILLING_UPSTREAM.has(v),
  );
  if (billingCode !== undefined) return hit('AGT-PROVIDER-BILLING', 'billing-code', said('provider error code', billingCode));
  const billing = firstMatch(BILLING_TEXT, text);
  if (billing !== null) return hit('AGT-PROVIDER-BILLING', 'billing-text', matched('message', billing));
  if (status === 529 || f.upstreamType === 'overloaded_error' || f.upstreamCode === 'overloaded_error') {
    return hit('AGT-PROVIDER-OVERLOADED', 'overloaded-529', status === 529 ? said(f.statusLabel, 529) : said('provider error type', 'overloaded_error'));
  }
  const contextCode = [f.upstreamCode, f.upstreamType, ...f.types.map((t) => t.name)].find((v) => v === 'context_length_exceeded');
  const context = firstMatch(CONTEXT_TEXT, text);
  if (contextCode !== undefined || context !== null) {
    return hit('AGT-PROVIDER-CONTEXT-OVERFLOW', 'context-overflow', context !== null ? matched('message', context) : said('provider error code', contextCode!));
  }
  const apiKey = firstMatch(API_KEY_TEXT, text);
  if (apiKey !== null) return hit('AGT-PROVIDER-AUTH', 'api-key-text', matched('message', apiKey));
  const permission = firstMatch(PERMISSION_TEXT, text);
  if (permission !== null) return hit('AGT-PROVIDER-AUTH-PERMANENT', 'permission-text', matched('message', permission));
  // The chain's summary names each candidate's reason; billing (above) keeps its own copy (#66314).
  const exhausted = firstMatch(FAILOVER_EXHAUSTED_TEXT, text);
  if (exhausted !== null) return hit('AGT-PROVIDER-FAILOVER-EXHAUSTED', 'failover-exhausted', matched('message', exhausted));
  if (status === 400 && OVERLOADED_TEXT.test(text)) return hit('AGT-PROVIDER-OVERLOADED', 'overloaded-text', matched('message', firstMatch(OVERLOADED_TEXT, text)!));

  // 5. HTTP status — an upstream answer. A SERVER span's status is the app's own response, and a
  // peer that is not a model API is not a provider.
  const evidence = providerEvidence(f);
  const knownOtherPeer = f.serverAddress !== null && !PROVIDER_HOST.test(f.serverAddress);
  const upstreamStatus = f.spanKind !== 'server' && (evidence !== null || !knownOtherPeer);
  if (status !== null && upstreamStatus) {
    const byStatus = statusCode(status);
    if (byStatus !== null) return hit(byStatus, 'http-status', said(f.statusLabel, status));
  }

  // 6. gRPC status, for a provider reached over gRPC (Vertex AI, Gemini).
  const grpcAsHttp = lookup(GRPC_AS_HTTP, f.grpcStatus);
  if (grpcAsHttp !== undefined && evidence !== null) {
    const byStatus = statusCode(grpcAsHttp);
    if (byStatus !== null) return hit(byStatus, 'grpc-status', `${said('rpc.grpc.status_code', f.grpcStatus!)}; ${evidence}`);
  }

  // 7. Provider error type / code, also as OpenTelemetry JS writes an API code into exception.type.
  for (const [label, value] of [
    ['provider error code', f.upstreamCode],
    ['provider error type', f.upstreamType],
    ...f.types.filter((t) => t.kind === 'api-code').map((t) => ['exception.type', t.name] as const),
  ] as const) {
    const upstream = lookup(UPSTREAM_CODES, value);
    if (upstream !== undefined) return hit(upstream, 'upstream-type', said(label, value!));
  }

  // 8. Texts only model APIs write.
  const byProviderText = matchPatterns(PROVIDER_PATTERNS, text);
  if (byProviderText !== null) return byProviderText;

  // 9. Network failures and generic words: the provider's only when a model call is in evidence.
  const networkType = typeIn(f, NETWORK_TYPES);
  const network = f.errno !== null && NETWORK_ERRNOS.has(f.errno) ? said('errno', f.errno) : networkType !== null ? typeSignal(networkType) : null;
  if (evidence !== null) {
    if (network !== null) return hit('AGT-PROVIDER-TIMEOUT', 'network-provider', `${network}; ${evidence}`);
    const generic = matchPatterns(GENERIC_PATTERNS, text);
    if (generic !== null) return { ...generic, signal: `${generic.signal}; ${evidence}` };
  }

  // 10. The layer's own fallback, then the agent CLI's and wrappers'.
  const temporalLayerWhy = temporalLayer(f);
  if (cliExit !== null && cliExit !== 0) return hit('AGT-CLI-NONZERO-EXIT', 'cli-exit-nonzero', said('exit code', cliExit));
  if (signal !== null) {
    return terminationRequested
      ? hit('AGT-SESSION-CANCELLED', 'process-signal-requested', said('signal', signal))
      : hit('AGT-SESSION-PROVIDER-EXITED', 'process-signal', said('signal', signal));
  }
  const late = matchPatterns(LATE_PATTERNS, text);
  if (late !== null) return late;
  const applicationFailure = f.types.find((t) => t.name === 'ApplicationFailure' || t.name === 'ApplicationError');
  if (applicationFailure !== undefined) {
    return /^\s*\w*init\w*:/im.test(text)
      ? hit('AGT-WORKER-INIT-FAILED', 'application-failure-init', typeSignal(applicationFailure))
      : hit('AGT-WORKER-EXECUTION-FAILED', 'application-failure', typeSignal(applicationFailure));
  }
  if (temporalLayerWhy !== null) return hit('AGT-WORKER-EXECUTION-FAILED', 'temporal-layer', temporalLayerWhy);
  if (modal !== null) return hit('AGT-SANDBOX-CREATE-FAILED', 'sandbox-layer', modal);
  switch (op) {
    case 'turn_start':
      return hit('AGT-SESSION-TURN-START-FAILED', 'operation-turn-start', opWhy);
    case 'interrupt':
      return hit('AGT-SESSION-INTERRUPT-FAILED', 'operation-interrupt', opWhy);
    case 'provider_exit':
      return hit('AGT-SESSION-PROVIDER-EXITED', 'operation-provider-exit', opWhy);
    case 'cli':
      return hit('AGT-CLI-NONZERO-EXIT', 'operation-cli', opWhy);
    default:
      break;
  }

  // 11. Unknown. Provider-unknown needs evidence of a provider call; the rest is the neutral code,
  // with the rule saying what kind of failure it was so an operator sees why nobody was blamed.
  // A program's own mistake or its database's error stays neutral even inside a model call.
  const database = f.types.find((t) => t.kind === 'sqlstate' || DATABASE_TYPES.has(t.name) || DATABASE_NAMESPACE.test(t.namespace) || /^(?:P\d{4}|SQLITE_[A-Z_]+)$/.test(t.name));
  if (database !== undefined) return hit(UNKNOWN_CODE, 'database-error', typeSignal(database));
  // fetch's TypeError("fetch failed") is a network failure whose peer nothing names.
  if (network !== null) return hit(UNKNOWN_CODE, 'network-no-provider', network);
  const bug = typeIn(f, RUNTIME_BUG_TYPES);
  if (bug !== null) return hit(UNKNOWN_CODE, 'runtime-error', typeSignal(bug));
  if (evidence !== null) return hit(PROVIDER_UNKNOWN_CODE, 'provider-unknown', evidence);
  if (status !== null && f.spanKind === 'server') return hit(UNKNOWN_CODE, 'server-span-status', `${said(f.statusLabel, status)} on a SERVER span`);
  if (status !== null) return hit(UNKNOWN_CODE, 'status-from-other-peer', `${said(f.statusLabel, status)}; ${said('server.address', f.serverAddress ?? '')}`);
  return hit(UNKNOWN_CODE, 'unknown', f.types[0] !== undefined ? typeSignal(f.types[0]) : text !== '' ? matched('message', text.slice(0, 80)) : null);
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

    // openclaw FailoverError: a provider call failed, and it names the provider.
    if (name === 'FailoverError') {
      set('failoverReason', str(prop(current, 'reason')));
      set('providerName', str(prop(current, 'provider')));
    }

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
