/**
 * What a runtime or a span knows about a failure. Every field is optional: the classifier uses
 * what is there, in the precedence of DESIGN §4, and never throws.
 */
export interface ClassifierInput {
  /** An explicit catalog code (e.g. `error.type` on a span). Used when it is a known code. */
  code?: string | null;
  /** The thrown value itself, when classifying in-process (SDK). Shapes are read duck-typed. */
  error?: unknown;
  exceptionType?: string | null;
  message?: string | null;
  /** HTTP status from the upstream response (`http.response.status_code`). */
  httpStatus?: number | null;
  /** Provider error type, e.g. Anthropic `error.type` = `invalid_request_error`. */
  upstreamType?: string | null;
  /** Provider error code, e.g. OpenAI `insufficient_quota`, `context_length_exceeded`. */
  upstreamCode?: string | null;
  /** Node errno code: ENOENT, ETIMEDOUT, ECONNRESET, … */
  errno?: string | null;
  /** Temporal-style timeout type: START_TO_CLOSE | SCHEDULE_TO_START | SCHEDULE_TO_CLOSE | HEARTBEAT. */
  temporalTimeoutType?: string | null;
  /** openclaw-style FailoverReason: auth, billing, rate_limit, overloaded, … */
  failoverReason?: string | null;
  /** Our own timeout tag (`faultline.timeout.kind`). */
  timeoutKind?: string | null;
  cliExitCode?: number | null;
  cliSignal?: string | null;
  stderrTail?: string | null;
  /** Sandbox error class name (Modal: SandboxTimeoutError, SandboxTerminatedError, AuthError, …). */
  sandboxErrorClass?: string | null;
  sandboxExitCode?: number | null;
  /** Whether we asked the sandbox/process to terminate (disambiguates exit 137). */
  terminationRequested?: boolean | null;
  /** What the runtime was doing: helps map a generic failure (e.g. "sandbox_create", "tool", "turn_start"). */
  operation?: string | null;
  /** Whether the span is a tool span (tool failures get tool codes). */
  isTool?: boolean | null;

  // What a plain OpenTelemetry producer sends besides the exception. All optional and additive.
  /** Span name: names the layer for known instrumentations (Temporal `RunActivity:…`, GenAI `chat …`, MCP `tools/call …`). */
  spanName?: string | null;
  /** `server` marks the app's own response: its HTTP status is not an upstream provider's. */
  spanKind?: SpanKindName | null;
  /** Instrumentation scope name (e.g. `@temporalio/interceptor-activity`). */
  scope?: string | null;
  /** `service.name`, for operator rules. */
  service?: string | null;
  /** `rpc.grpc.status_code`. */
  grpcStatus?: number | null;
  /** `rpc.service`, e.g. `temporal.api.workflowservice.v1.WorkflowService`. */
  rpcService?: string | null;
  /** The GenAI provider of this span (`gen_ai.provider.name`, `gen_ai.system`, `ai.model.provider`). */
  providerName?: string | null;
  /** `gen_ai.operation.name`: `chat`, `generate_content`, … mark a call to a model. */
  genAiOperation?: string | null;
  /** The peer the span talked to (`server.address`, or the host of `url.full`). */
  serverAddress?: string | null;
  /** The span's attributes as sent, for operator rules that match on attributes. */
  attributes?: Readonly<Record<string, unknown>> | null;
}

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface Classification {
  code: string;
  /** Which rule matched (e.g. "temporal-timeout", "billing-text"); stored with every occurrence. */
  rule: string;
  /** The input the rule used, in words an operator can check, e.g. `exception.type="TimeoutFailure"`. */
  signal?: string | null;
}
