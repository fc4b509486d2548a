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
}

export interface Classification {
  code: string;
  /** Which rule matched, for debugging and tests (e.g. "temporal-timeout", "billing-text"). */
  rule: string;
}
