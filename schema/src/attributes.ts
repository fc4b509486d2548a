import { PROVIDER_NAMES } from './catalog.ts';

/**
 * Span attribute names of the telemetry contract (DESIGN §3). The SDK writes them, the collector
 * reads them; any OpenTelemetry producer may set them by hand.
 */
export const ATTR = {
  sessionId: 'session.id',
  sessionState: 'faultline.session.state',
  sessionStatusMessage: 'faultline.session.status_message',
  sessionStuckAfterMs: 'faultline.session.stuck_after_ms',
  /** Prefix of the heartbeat progress details: faultline.heartbeat.events_processed, .phase, … */
  heartbeatPrefix: 'faultline.heartbeat.',
  timeoutKind: 'faultline.timeout.kind',
  upstreamType: 'faultline.upstream.type',
  upstreamRequestId: 'faultline.upstream.request_id',
  /** Provider error code, e.g. OpenAI `insufficient_quota`. */
  upstreamCode: 'faultline.upstream.code',
  /** What the runtime was doing when it failed (classifier operation vocabulary, CLASSIFIER_OPERATIONS). */
  operation: 'faultline.operation',
  /** Sandbox error class name (Modal: SandboxTimeoutError, …). */
  sandboxErrorClass: 'faultline.sandbox.error_class',
  /** The user-facing assistant output of a turn, for /api/sessions/:id/latest (seed 001). */
  outputText: 'faultline.output.text',
  /** A catalog code, set by the SDK; foreign values are reclassified at the collector. */
  errorType: 'error.type',
  errorCategory: 'error.category',
  errorRetryable: 'error.retryable',
  errorUserMessage: 'error.user_message',
  errorSourceSystem: 'error.source_system',
  errorFingerprint: 'error.fingerprint',
  /** The classifier rule the SDK's in-process classification used, and its signal; the collector stores them. */
  classifierRule: 'faultline.classifier.rule',
  classifierSignal: 'faultline.classifier.signal',
  /** Set on a span that fails only because a child's already-recorded error escaped it: one failure, one occurrence. */
  errorPropagated: 'faultline.error.propagated',
  /** Classifier inputs recorded on error spans so the collector can reproduce the code. */
  cliExitCode: 'cli.exit_code',
  cliStderrTail: 'cli.stderr_tail',
  processSignal: 'process.signal',
  sandboxExitCode: 'faultline.sandbox.exit_code',
  terminationRequested: 'faultline.sandbox.termination_requested',
  temporalTimeoutType: 'faultline.temporal.timeout_type',
  failoverReason: 'faultline.failover.reason',
  failoverDecision: 'faultline.failover.decision',
  errno: 'faultline.errno',
  httpStatus: 'http.response.status_code',
  serviceName: 'service.name',
  genAiProvider: 'gen_ai.provider.name',
  genAiModel: 'gen_ai.request.model',
  genAiAgent: 'gen_ai.agent.name',
  genAiOperation: 'gen_ai.operation.name',
  genAiTool: 'gen_ai.tool.name',
  genAiConversationId: 'gen_ai.conversation.id',
  exceptionType: 'exception.type',
  exceptionMessage: 'exception.message',
  exceptionStacktrace: 'exception.stacktrace',
} as const;

/*
 * Where other instrumentations keep the facts Faultline groups by: the session id, the provider,
 * the model and the agent. Precedence, first match wins:
 *   1. the span's (or log record's) own attributes, in the order of each list;
 *   2. the resource's attributes, in the same order;
 *   3. for the agent CLIs, what their `service.name` implies (SERVICE_DEFAULTS).
 * Within one set of attributes the lists' order decides, and a session id inside a JSON attribute
 * (SESSION_ID_JSON_ALIASES) counts only when no plain alias is there. Empty strings do not count. The collector reads only these lists; add a producer here.
 */

/** Session id: `session.id` first, then other instrumentations' names for the same thing. */
export const SESSION_ID_ALIASES = [
  // OTel `session.id`; Claude Code and Gemini CLI on every event; OpenInference.
  'session.id',
  // GenAI semantic conventions; Gemini CLI spans.
  'gen_ai.conversation.id',
  // Codex CLI events (codex-rs/otel log_event!).
  'conversation.id',
  // Vercel AI SDK: `experimental_telemetry.metadata` keys become `ai.telemetry.metadata.<key>`.
  'ai.telemetry.metadata.sessionId',
  'ai.telemetry.metadata.session_id',
  'ai.telemetry.metadata.threadId',
  'ai.telemetry.metadata.thread_id',
  'langfuse.session.id',
  // LangSmith OTel mode (OtelSpanProcessor metadata), LangGraph threads.
  'langsmith.metadata.session_id',
  'langsmith.metadata.thread_id',
  // OpenLLMetry association properties; Laminar.
  'traceloop.association.properties.session_id',
  'lmnr.association.properties.session_id',
  // Google ADK.
  'gcp.vertex.agent.session_id',
  'session_id',
  'thread_id',
] as const;

/**
 * Session ids inside a JSON-encoded attribute, read only when no plain alias matched: OpenInference's
 * LangChain instrumentor puts LangGraph's `configurable.thread_id` into the `metadata` JSON string.
 */
export const SESSION_ID_JSON_ALIASES = [
  { key: 'metadata', field: 'session_id' },
  { key: 'metadata', field: 'thread_id' },
] as const;

/** Provider: GenAI conventions (current, then the older `gen_ai.system`), Vercel AI SDK, OpenInference. */
export const PROVIDER_ALIASES = ['gen_ai.provider.name', 'gen_ai.system', 'ai.model.provider', 'llm.provider', 'llm.system'] as const;

/** Model: GenAI conventions, Vercel AI SDK, OpenInference, and the agent CLIs' events (`model`). */
export const MODEL_ALIASES = ['gen_ai.request.model', 'gen_ai.response.model', 'ai.model.id', 'llm.model_name', 'model'] as const;

export const AGENT_ALIASES = ['gen_ai.agent.name'] as const;

/**
 * What an agent CLI's default `service.name` implies when its events do not say: Claude Code
 * (`claude-code`), Gemini CLI (`gemini-cli`), Codex (`service.name` = its originator,
 * `codex_cli_rs` by default, `codex_exec` for `codex exec`).
 */
export const SERVICE_DEFAULTS: Readonly<Record<string, { provider: string; agent: string }>> = {
  'claude-code': { provider: 'anthropic', agent: 'claude-code' },
  'gemini-cli': { provider: 'gcp.gemini', agent: 'gemini-cli' },
  codex_cli_rs: { provider: 'openai', agent: 'codex' },
  codex_exec: { provider: 'openai', agent: 'codex' },
  codex_tui: { provider: 'openai', agent: 'codex' },
};

/**
 * Provider ids other instrumentations send, as GenAI `gen_ai.provider.name` values. The Vercel AI
 * SDK sends `<provider>.<api>` (`openai.chat`, `anthropic.messages`, `google.generative-ai`); only
 * the part before the first dot is looked up when the whole value is not known.
 */
const PROVIDER_IDS: Readonly<Record<string, string>> = {
  google: 'gcp.gemini',
  'google.vertex': 'gcp.vertex_ai',
  vertex: 'gcp.vertex_ai',
  vertexai: 'gcp.vertex_ai',
  'amazon-bedrock': 'aws.bedrock',
  bedrock: 'aws.bedrock',
  aws: 'aws.bedrock',
  azure: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  xai: 'x_ai',
};

type AttrBag = Readonly<Record<string, unknown>>;

function text(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function firstIn(keys: readonly string[], bag: AttrBag): string | null {
  for (const key of keys) {
    const v = text(bag[key]);
    if (v !== null) return v;
  }
  return null;
}

function jsonField(raw: unknown, field: string): string | null {
  // Parsing costs; only strings that can hold the field are parsed.
  if (typeof raw !== 'string' || !raw.includes(field)) return null;
  try {
    const doc: unknown = JSON.parse(raw);
    return doc !== null && typeof doc === 'object' ? text((doc as Record<string, unknown>)[field]) : null;
  } catch {
    return null;
  }
}

/** The session, provider, model and agent one attribute bag (a span's, or a resource's) names. */
export interface AliasFacts {
  sessionId: string | null;
  provider: string | null;
  model: string | null;
  agent: string | null;
}

/** What one bag says by the alias lists, without defaults (a resource's is worth computing once per request). */
export function aliasFactsOf(bag: AttrBag): AliasFacts {
  let sessionId = firstIn(SESSION_ID_ALIASES, bag);
  if (sessionId === null) {
    for (const { key, field } of SESSION_ID_JSON_ALIASES) if ((sessionId = jsonField(bag[key], field)) !== null) break;
  }
  const provider = firstIn(PROVIDER_ALIASES, bag);
  return { sessionId, provider: provider === null ? null : normalizeProvider(provider), model: firstIn(MODEL_ALIASES, bag), agent: firstIn(AGENT_ALIASES, bag) };
}

/** The precedence: the span's (or record's) own attributes, then its resource's, then its service's defaults. */
export function resolveAliases(own: AliasFacts, resource: AliasFacts, serviceName: unknown): AliasFacts {
  const defaults = typeof serviceName === 'string' && Object.hasOwn(SERVICE_DEFAULTS, serviceName) ? SERVICE_DEFAULTS[serviceName] : undefined;
  return {
    sessionId: own.sessionId ?? resource.sessionId,
    provider: own.provider ?? resource.provider ?? defaults?.provider ?? null,
    model: own.model ?? resource.model,
    agent: own.agent ?? resource.agent ?? defaults?.agent ?? null,
  };
}

const resolve = (attrs: AttrBag, resource: AttrBag) => resolveAliases(aliasFactsOf(attrs), aliasFactsOf(resource), resource[ATTR.serviceName]);

export const resolveSessionId = (attrs: AttrBag, resource: AttrBag): string | null => resolve(attrs, resource).sessionId;
export const resolveProvider = (attrs: AttrBag, resource: AttrBag): string | null => resolve(attrs, resource).provider;
export const resolveModel = (attrs: AttrBag, resource: AttrBag): string | null => resolve(attrs, resource).model;
export const resolveAgent = (attrs: AttrBag, resource: AttrBag): string | null => resolve(attrs, resource).agent;

/** The provider as a GenAI `gen_ai.provider.name` value where it is one we know, else as sent. */
export function normalizeProvider(value: string): string {
  const v = value.trim().toLowerCase();
  const known = (id: string) => Object.hasOwn(PROVIDER_NAMES, id);
  if (known(v)) return v;
  if (Object.hasOwn(PROVIDER_IDS, v)) return PROVIDER_IDS[v];
  const parts = v.split('.');
  for (const head of [parts.slice(0, 2).join('.'), parts[0]]) {
    if (known(head)) return head;
    if (Object.hasOwn(PROVIDER_IDS, head)) return PROVIDER_IDS[head];
  }
  return value.trim();
}

/**
 * Prompt text: never stored unless the operator sets FAULTLINE_STORE_PROMPTS. Exact keys (the agent
 * CLIs' `prompt`, Gemini CLI's `request_text`, GenAI `gen_ai.input.messages`, Vercel AI SDK
 * `ai.prompt`, OpenInference `input.value`, OpenLLMetry `traceloop.entity.input`) and prefixes of
 * flattened message lists (OpenLLMetry `gen_ai.prompt.0.content`, OpenInference
 * `llm.input_messages.0.message.content`).
 */
export const PROMPT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'prompt',
  'user_prompt',
  'request_text',
  'gen_ai.prompt',
  'gen_ai.input.messages',
  'gen_ai.system_instructions',
  'ai.prompt',
  'ai.prompt.messages',
  'input.value',
  'llm.prompts',
  'traceloop.entity.input',
]);
export const PROMPT_ATTRIBUTE_PREFIXES = ['gen_ai.prompt.', 'llm.input_messages.', 'llm.prompts.'] as const;
/** Log events whose body is the prompt itself (GenAI conventions' message events). */
export const PROMPT_BODY_EVENTS: ReadonlySet<string> = new Set(['gen_ai.user.message', 'gen_ai.system.message']);
/** What stands in for prompt text that was not stored. */
export const PROMPT_NOT_STORED = '[prompt not stored: set FAULTLINE_STORE_PROMPTS=1 to keep prompt text]';

export function isPromptAttribute(key: string): boolean {
  if (PROMPT_ATTRIBUTES.has(key)) return true;
  for (const prefix of PROMPT_ATTRIBUTE_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

/** Span names the SDK emits; the collector uses them to tell span types apart. */
export const SPAN = {
  status: 'faultline.session.status',
  heartbeat: 'faultline.session.heartbeat',
  error: 'faultline.error',
  /** Turn spans are `invoke_agent <agent>`, tool spans `execute_tool <tool>` (GenAI conventions). */
  turnPrefix: 'invoke_agent',
  toolPrefix: 'execute_tool',
} as const;

// Defined beside the catalog entry that uses them (catalog-types.ts imports nothing of ours).
export { TIMEOUT_KINDS, type TimeoutKind } from './catalog-types.ts';
