import { describe, expect, it } from 'vitest';
import { isErrorLogRecord, logEventName } from './log-events.ts';

describe('logEventName', () => {
  it('completes Claude Code\'s bare event.name from its body', () => {
    expect(logEventName(null, { 'event.name': 'api_error' }, 'claude_code.api_error')).toBe('claude_code.api_error');
  });

  it('takes a full event.name as it is (Gemini CLI, Codex), over the LogRecord field Rust fills with a callsite', () => {
    expect(logEventName(null, { 'event.name': 'gemini_cli.api_error' }, 'API error for gemini-2.5-pro. Error: x. Duration: 5ms.')).toBe('gemini_cli.api_error');
    expect(logEventName('event codex-rs/otel/src/events/session_telemetry.rs:528', { 'event.name': 'codex.sse_event' }, null)).toBe('codex.sse_event');
  });

  it('uses the LogRecord event_name field when there is no attribute, and gives null for a plain log line', () => {
    expect(logEventName('gen_ai.client.operation.exception', {}, null)).toBe('gen_ai.client.operation.exception');
    expect(logEventName(null, {}, 'connected to db')).toBeNull();
    // A bare name whose body is a sentence stays bare.
    expect(logEventName(null, { 'event.name': 'user_prompt' }, 'User prompt. Length: 3.')).toBe('user_prompt');
  });
});

describe('isErrorLogRecord', () => {
  it('knows the CLIs\' error events, some only when they carry an error', () => {
    expect(isErrorLogRecord('claude_code.api_error', {}, 9)).toBe(true);
    expect(isErrorLogRecord('gemini_cli.api_error', {}, 9)).toBe(true);
    expect(isErrorLogRecord('codex.api_request', { 'http.response.status_code': 200 }, 9)).toBe(false);
    expect(isErrorLogRecord('codex.api_request', { 'error.message': 'unexpected status 429' }, 9)).toBe(true);
    expect(isErrorLogRecord('codex.sse_event', { 'event.kind': 'response.completed' }, 9)).toBe(false);
  });

  it('does not count a tool that reported failure to the model (the agent carries on)', () => {
    expect(isErrorLogRecord('claude_code.tool_result', { success: 'false', error_type: 'ShellError' }, 9)).toBe(false);
    expect(isErrorLogRecord('gemini_cli.tool_call', { success: false, 'error.message': 'no such file' }, 9)).toBe(false);
  });

  it('counts semantic-convention exceptions (any severity) and ERROR/FATAL lines', () => {
    expect(isErrorLogRecord('gen_ai.client.operation.exception', { 'exception.type': 'RateLimitError' }, 13)).toBe(true);
    expect(isErrorLogRecord(null, { 'exception.message': 'boom' }, 9)).toBe(true);
    expect(isErrorLogRecord(null, {}, 17)).toBe(true);
    expect(isErrorLogRecord(null, {}, 21)).toBe(true);
    expect(isErrorLogRecord(null, {}, 13)).toBe(false);
  });
});
