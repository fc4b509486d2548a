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

/** Other instrumentations' names for the session id, read when `session.id` is absent. */
export const SESSION_ID_ALIASES = [
  'session.id',
  'gen_ai.conversation.id',
  'langfuse.session.id',
  'traceloop.association.properties.session_id',
  'lmnr.association.properties.session_id',
] as const;

/** Span names the SDK emits; the collector uses them to tell span types apart. */
export const SPAN = {
  status: 'faultline.session.status',
  heartbeat: 'faultline.session.heartbeat',
  error: 'faultline.error',
  /** Turn spans are `invoke_agent <agent>`, tool spans `execute_tool <tool>` (GenAI conventions). */
  turnPrefix: 'invoke_agent',
  toolPrefix: 'execute_tool',
} as const;

export const TIMEOUT_KINDS = [
  'schedule_to_start',
  'start_to_close',
  'heartbeat',
  'cli_exec',
  'turn_idle',
  'provider',
  'sandbox',
] as const;
export type TimeoutKind = (typeof TIMEOUT_KINDS)[number];
