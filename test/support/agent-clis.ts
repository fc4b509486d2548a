/**
 * The agent CLIs' log events, shaped as each CLI sends them, emitted through the official
 * OpenTelemetry JS logs SDK and OTLP exporters (gRPC, HTTP/protobuf, HTTP/JSON). The docs in
 * docs/connect/ describe the same records; each shape cites its source:
 *
 * - Claude Code: code.claude.com/docs/en/monitoring-usage ("Standard attributes", "Events"). Body
 *   `claude_code.<event>`, `event.name` the bare name, `session.id`, `prompt.id`,
 *   `event.sequence` on every event; resource `service.name` = `claude-code`.
 * - Gemini CLI: google-gemini/gemini-cli packages/core/src/telemetry/types.ts (ApiErrorEvent,
 *   UserPromptEvent), telemetryAttributes.ts (getCommonAttributes), sdk.ts (resource with
 *   `service.name` = `gemini-cli` and `session.id`; gRPC exporters with gzip compression).
 * - Codex: openai/codex codex-rs/otel/src/events/session_telemetry.rs (`sse_event_failed`,
 *   `record_api_request`), events/shared/log.rs (common fields), provider.rs (resource); its Rust
 *   tracing bridge sets the record's event_name to the tracing callsite ("event <file>:<line>") and
 *   formats `%`-fields (duration_ms) as strings.
 */
import { Metadata } from '@grpc/grpc-js';
import { SeverityNumber, type Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export const PROTOCOLS: OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

export interface CollectorEndpoints {
  /** http://127.0.0.1:<PORT> */
  url: string;
  grpcPort: number | null;
}

export function logExporter(protocol: OtlpProtocol, c: CollectorEndpoints, o: { headers?: Record<string, string>; gzip?: boolean } = {}): LogRecordExporter {
  const compression = o.gzip ? CompressionAlgorithm.GZIP : undefined;
  if (protocol === 'grpc') {
    if (c.grpcPort === null) throw new Error('this collector serves no gRPC');
    let metadata: Metadata | undefined;
    if (o.headers) {
      metadata = new Metadata();
      for (const [k, v] of Object.entries(o.headers)) metadata.set(k, v);
    }
    return new GrpcLogExporter({ url: `http://127.0.0.1:${c.grpcPort}`, compression, metadata });
  }
  const Exporter = protocol === 'http/protobuf' ? ProtoLogExporter : JsonLogExporter;
  return new Exporter({ url: `${c.url}/v1/logs`, headers: o.headers, compression });
}

export const CLI_RESOURCES = {
  'claude-code': { 'service.name': 'claude-code', 'service.version': '2.1.287', 'os.type': 'linux', 'os.version': '6.12.0', 'host.arch': 'amd64' },
  'gemini-cli': { 'service.name': 'gemini-cli', 'service.version': 'v20.20.2' },
  codex: { 'service.name': 'codex_cli_rs', 'service.version': '0.46.0', env: 'dev', 'host.name': 'devbox' },
} as const;

export type Cli = keyof typeof CLI_RESOURCES;

/**
 * A LoggerProvider for one CLI process, batching as the CLIs do (Gemini CLI's sdk.ts, Claude Code's
 * OTEL_LOGS_EXPORT_INTERVAL); `forceFlush()` exports the batch and resolves after the collector answered.
 */
export function cliLogger(cli: Cli, exporter: LogRecordExporter, extraResource: Record<string, string> = {}): { logger: Logger; provider: LoggerProvider } {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ ...CLI_RESOURCES[cli], ...extraResource }),
    processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })],
  });
  const scope = { 'claude-code': 'com.anthropic.claude_code.events', 'gemini-cli': 'gemini-cli', codex: 'codex_otel' }[cli];
  return { logger: provider.getLogger(scope), provider };
}

// ── Claude Code ──────────────────────────────────────────────────────────────────────────────

export class ClaudeCode {
  private sequence = 0;
  readonly promptId = crypto.randomUUID();

  constructor(
    private readonly logger: Logger,
    readonly sessionId: string,
  ) {}

  private emit(event: string, attributes: Record<string, string | number | boolean>, at = new Date()) {
    this.logger.emit({
      body: `claude_code.${event}`,
      timestamp: at,
      attributes: {
        'session.id': this.sessionId,
        'user.id': 'a7f3c91e0d2b4f6a8c1e5d9b2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a',
        'organization.id': '0f9e8d7c-6b5a-4938-a271-605f4e3d2c1b',
        'terminal.type': 'tmux',
        'event.name': event,
        'event.timestamp': at.toISOString(),
        'event.sequence': this.sequence++,
        'prompt.id': this.promptId,
        ...attributes,
      },
    });
  }

  /** `prompt` is "<REDACTED>" unless the user set OTEL_LOG_USER_PROMPTS=1. */
  userPrompt(prompt: string, at?: Date) {
    this.emit('user_prompt', { prompt_length: prompt.length, prompt }, at);
  }

  apiRequest(at?: Date) {
    this.emit(
      'api_request',
      { model: 'claude-sonnet-4-5', cost_usd: 0.0123, duration_ms: 2841, input_tokens: 12, output_tokens: 310, cache_read_tokens: 18250, cache_creation_tokens: 0, request_id: 'req_011CVzZx8s3KjqGb1RUMxH3P', speed: 'normal', query_source: 'repl_main_thread' },
      at,
    );
  }

  toolResult(success: boolean, at?: Date) {
    this.emit('tool_result', { tool_name: 'Bash', tool_use_id: 'toolu_01XFDUDYJgAACzvnptvVoYEL', success: String(success), duration_ms: 412, ...(success ? {} : { error_type: 'ShellError' }), decision_type: 'accept', decision_source: 'config' }, at);
  }

  /** Sent once, when Claude Code gives up: `attempt` 11 after the default 10 retries of a 429. */
  apiError(o: { status?: number; error: string; attempt?: number }, at?: Date) {
    this.emit(
      'api_error',
      { model: 'claude-sonnet-4-5', error: o.error, ...(o.status !== undefined ? { status_code: o.status } : {}), duration_ms: 1520, attempt: o.attempt ?? 11, speed: 'normal', query_source: 'repl_main_thread' },
      at,
    );
  }
}

/** Anthropic's 429 as the SDK's error message reports it (status, then the API's error body). */
export const ANTHROPIC_429 =
  '429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 80,000 input tokens per minute."},"request_id":"req_011CVzZx8s3KjqGb1RUMxH3P"}';

// ── Gemini CLI ───────────────────────────────────────────────────────────────────────────────

export class GeminiCli {
  readonly promptId = `${crypto.randomUUID()}########0`;

  constructor(
    private readonly logger: Logger,
    readonly sessionId: string,
  ) {}

  private common() {
    return { 'session.id': this.sessionId, 'installation.id': '5c1e0b6e-7f0e-4d43-8d6c-7e8a7b5f9a10', interactive: true };
  }

  userPrompt(prompt: string) {
    this.logger.emit({
      body: `User prompt. Length: ${prompt.length}.`,
      attributes: { ...this.common(), 'event.name': 'gemini_cli.user_prompt', 'event.timestamp': new Date().toISOString(), prompt_length: prompt.length, prompt_id: this.promptId, auth_type: 'gemini-api-key', prompt },
    });
  }

  /** ApiErrorEvent.toLogRecord: `error` twice (as `error.message` too), `http.status_code` when numeric. */
  apiError(o: { model: string; error: string; status: number; errorType: string; durationMs: number }) {
    this.logger.emit({
      body: `API error for ${o.model}. Error: ${o.error}. Duration: ${o.durationMs}ms.`,
      attributes: {
        ...this.common(),
        'event.name': 'gemini_cli.api_error',
        'event.timestamp': new Date().toISOString(),
        'error.message': o.error,
        model_name: o.model,
        duration: o.durationMs,
        model: o.model,
        error: o.error,
        status_code: o.status,
        duration_ms: o.durationMs,
        prompt_id: this.promptId,
        auth_type: 'gemini-api-key',
        'error.type': o.errorType,
        'http.status_code': o.status,
      },
    });
  }
}

/** What @google/genai's ApiError says for a 429 (the Gemini API's error body after the status). */
export const GEMINI_429 =
  'got status: 429 Too Many Requests. {"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}';

// ── Codex ────────────────────────────────────────────────────────────────────────────────────

export class Codex {
  constructor(
    private readonly logger: Logger,
    readonly conversationId: string,
  ) {}

  private emit(line: number, fields: Record<string, string | number | boolean>) {
    this.logger.emit({
      // Rust's SDK stamps records with nanosecond precision (SystemTime::now()).
      timestamp: performance.timeOrigin + performance.now(),
      eventName: `event codex-rs/otel/src/events/session_telemetry.rs:${line}`,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      attributes: {
        ...fields,
        'event.timestamp': new Date().toISOString(),
        'conversation.id': this.conversationId,
        'app.version': '0.46.0',
        auth_mode: 'ApiKey',
        originator: 'codex_cli_rs',
        'terminal.type': 'xterm-256color',
        model: 'gpt-5-codex',
        slug: 'gpt-5-codex',
      },
    });
  }

  userPrompt(prompt: string) {
    this.emit(601, { 'event.name': 'codex.user_prompt', prompt_length: String(prompt.length), prompt });
  }

  apiRequest(o: { attempt: number; status: number; error?: string }) {
    this.emit(281, { 'event.name': 'codex.api_request', duration_ms: '734', 'http.response.status_code': o.status, ...(o.error ? { 'error.message': o.error } : {}), attempt: o.attempt, endpoint: '/v1/responses' });
  }

  /** A `response.failed` server-sent event: its JSON data becomes `error.message`. */
  sseFailed(data: unknown) {
    this.emit(528, { 'event.name': 'codex.sse_event', 'event.kind': 'response.failed', duration_ms: '1203', 'error.message': JSON.stringify(data) });
  }
}

/** The Responses API's `response.failed` event for a rate limit. */
export const CODEX_RESPONSE_FAILED = {
  type: 'response.failed',
  sequence_number: 3,
  response: {
    id: 'resp_68a1c2d3e4f5a6b7c8d9e0f1',
    object: 'response',
    created_at: 1764412345,
    status: 'failed',
    error: { code: 'rate_limit_exceeded', message: 'Rate limit reached for gpt-5-codex in organization org-3xQ on tokens per min (TPM): Limit 30000, Used 30000, Requested 1840. Please try again in 3.68s.' },
    model: 'gpt-5-codex',
  },
};
