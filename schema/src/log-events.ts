/**
 * OpenTelemetry log records as Faultline reads them (DESIGN §3): which records are error
 * occurrences, where each producer keeps the facts the classifier needs, and how an event's name
 * is found. The agent CLIs report their failures this way rather than as spans:
 *
 * - Claude Code (code.claude.com/docs/en/monitoring-usage, "Events"): body `claude_code.<event>`,
 *   attribute `event.name` = the bare `<event>`; `claude_code.api_error` carries `error`,
 *   `status_code`, `attempt`, `model` and is sent once, after retries are exhausted;
 *   `claude_code.internal_error` carries `error_name` and an errno-style `error_code`.
 * - Gemini CLI (google-gemini/gemini-cli docs/cli/telemetry.md, packages/core/src/telemetry/types.ts):
 *   `event.name` = `gemini_cli.<event>`; `gemini_cli.api_error` carries `error`/`error.message`,
 *   `error.type`, `status_code` and `http.status_code`.
 * - Codex (openai/codex docs/config.md, codex-rs/otel/src/events/session_telemetry.rs): `event.name` =
 *   `codex.<event>`; a failed `codex.api_request` carries `error.message`, `attempt` and
 *   `http.response.status_code`; a `codex.sse_event` with `event.kind` `response.failed` carries the
 *   failed event's JSON in `error.message`.
 * - GenAI semantic conventions: `gen_ai.client.operation.exception` with `exception.*`.
 *
 * Other records are errors when they carry `exception.type`/`exception.message` (the semantic
 * conventions' exception on a log record) or a severity of ERROR or above; everything else is a
 * sign of life and a timeline entry. Tool results that report failure are not occurrences: the
 * agent hands them back to the model and carries on.
 */

/** Where one event keeps each classifier input; the first key present wins. */
export interface LogErrorEvent {
  /** The record is an error only when this attribute is present and not empty; without it, always. */
  errorWhen?: string;
  message?: readonly string[];
  httpStatus?: readonly string[];
  /** An error class or type name (read as the exception type). */
  errorType?: readonly string[];
  errno?: readonly string[];
  /** How many attempts were made: shown with the error text ("… (attempt 11)"). */
  attempt?: readonly string[];
  /** The event reports a call to the model provider: evidence for the classifier's provider codes. */
  providerCall?: true;
}

export const LOG_ERROR_EVENTS: Readonly<Record<string, LogErrorEvent>> = {
  'claude_code.api_error': { message: ['error'], httpStatus: ['status_code'], attempt: ['attempt'], providerCall: true },
  'claude_code.internal_error': { errorType: ['error_name'], errno: ['error_code'] },
  'gemini_cli.api_error': {
    message: ['error', 'error.message'],
    httpStatus: ['http.status_code', 'status_code'],
    errorType: ['error.type', 'error_type'],
    providerCall: true,
  },
  'gemini_cli.chat.content_retry_failure': { errorType: ['final_error_type'], attempt: ['total_attempts'] },
  'codex.api_request': { errorWhen: 'error.message', message: ['error.message'], httpStatus: ['http.response.status_code'], attempt: ['attempt'], providerCall: true },
  'codex.sse_event': { errorWhen: 'error.message', message: ['error.message'], providerCall: true },
  'codex.websocket_event': { errorWhen: 'error.message', message: ['error.message'] },
  'codex.websocket_request': { errorWhen: 'error.message', message: ['error.message'] },
  'gen_ai.client.operation.exception': { providerCall: true },
};

/** SeverityNumber ERROR (17) and above: ERROR, ERROR2–4, FATAL, FATAL2–4. */
export const LOG_ERROR_SEVERITY = 17;

const EVENT_NAME = /^[A-Za-z_][\w.-]*$/;

/**
 * The event a record reports: its `event.name` attribute (Gemini CLI, Codex, most producers), else
 * the LogRecord `event_name` field. Claude Code puts the bare name in `event.name` and the full one
 * in the body, so a bare name is completed from a body that ends with it. (The attribute wins over
 * the field because Rust's tracing bridge fills the field with the tracing callsite's name.)
 */
export function logEventName(eventNameField: string | null, attributes: Readonly<Record<string, unknown>>, body: unknown): string | null {
  const attr = attributes['event.name'];
  if (typeof attr === 'string' && attr !== '') {
    if (!attr.includes('.') && typeof body === 'string' && body.endsWith(`.${attr}`) && EVENT_NAME.test(body)) return body;
    return attr;
  }
  return eventNameField !== null && eventNameField !== '' ? eventNameField : null;
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/** Whether a record with this event name, attributes and severity is an error occurrence. */
export function isErrorLogRecord(eventName: string | null, attributes: Readonly<Record<string, unknown>>, severityNumber: number): boolean {
  const known = eventName !== null && Object.hasOwn(LOG_ERROR_EVENTS, eventName) ? LOG_ERROR_EVENTS[eventName] : undefined;
  if (known) return known.errorWhen === undefined || present(attributes[known.errorWhen]);
  if (present(attributes['exception.type']) || present(attributes['exception.message'])) return true;
  return severityNumber >= LOG_ERROR_SEVERITY;
}
