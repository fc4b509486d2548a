/**
 * Zero-code ingest from the agent CLIs: their OTLP log events, shaped exactly as each CLI sends
 * them (test/support/agent-clis.ts, sources cited there), through the official OpenTelemetry
 * exporters over gRPC, HTTP/protobuf and HTTP/JSON, on both storages. What a user would check:
 * the session shows up failed with the right code and friendly message as soon as the exporter's
 * flush returns (the collector acknowledges after commit), the live stream pushes it, the other
 * events are on the timeline, and prompt text is not stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPT_NOT_STORED, renderUserMessage, type SessionDetail, type Session, type Page } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { LiveSessions } from '../../scenarios/src/live.ts';
import {
  ANTHROPIC_429,
  ClaudeCode,
  Codex,
  CODEX_RESPONSE_FAILED,
  GEMINI_429,
  GeminiCli,
  PROTOCOLS,
  cliLogger,
  logExporter,
} from '../support/agent-clis.ts';
import { getJson } from './support.ts';

const RATE_LIMIT = 'AGT-PROVIDER-RATE-LIMIT';

describe.each(STORAGES)('agent CLIs over OTLP logs on $name', (storage) => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(storage, { grpcPort: 0 });
  });
  afterAll(async () => collector?.close());

  const detail = (id: string) => getJson<SessionDetail>(`${collector.url}/api/sessions/${encodeURIComponent(id)}`);
  const failedIds = async () => (await getJson<Page<Session>>(`${collector.url}/api/sessions?failed=true&limit=500`)).items.map((s) => s.id);

  for (const protocol of PROTOCOLS) {
    it(`Claude Code over ${protocol}: a 429 api_error shows the session failed with the rate-limit code and message`, async () => {
      const sessionId = `cc-${protocol.replace('/', '-')}-${storage.name}`;
      const { logger, provider } = cliLogger('claude-code', logExporter(protocol, collector));
      const cc = new ClaudeCode(logger, sessionId);
      cc.userPrompt('fix the flaky test in src/queue.ts');
      cc.apiRequest();
      cc.toolResult(false);
      cc.apiError({ status: 429, error: ANTHROPIC_429 });
      await provider.forceFlush();

      const { session, timeline } = await detail(sessionId);
      expect(session).toMatchObject({ service: 'claude-code', provider: 'anthropic', agent: 'claude-code', model: 'claude-sonnet-4-5', errorCount: 1, spanCount: 4 });
      expect(session.lastError).toMatchObject({ code: RATE_LIMIT, message: renderUserMessage(RATE_LIMIT, { provider: 'anthropic' }) });
      expect(session.lastError?.message).toMatch(/^Anthropic is limiting/);
      expect(await failedIds()).toContain(sessionId);
      // The CLI's events in order: prompt, request, the failed tool call (a sign of life, not an occurrence), the error.
      expect(timeline.map((i) => [i.kind, i.name])).toEqual([
        ['log', 'claude_code.user_prompt'],
        ['log', 'claude_code.api_request'],
        ['log', 'claude_code.tool_result'],
        ['error', 'claude_code.api_error'],
      ]);
      const error = timeline[3].error!;
      expect(error).toMatchObject({ code: RATE_LIMIT, upstreamStatus: 429, upstreamType: 'rate_limit_error', service: 'claude-code' });
      // The provider's own words out of the error text, and how often Claude Code tried.
      expect(error.technicalMessage).toBe('This request would exceed the rate limit for your organization of 80,000 input tokens per minute. (attempt 11)');
      expect(error.attributes).toMatchObject({ attempt: 11, 'event.name': 'api_error' });
      // Prompt text is not stored unless the operator allows it; its length is.
      expect(timeline[0].details).toMatchObject({ prompt: PROMPT_NOT_STORED, prompt_length: 34 });
      expect(JSON.stringify(await detail(sessionId))).not.toContain('flaky test');
      await provider.shutdown();
    });
  }

  it('pushes a Claude Code api_error to live viewers', async () => {
    const live = await LiveSessions.connect(collector.url);
    try {
      const sessionId = `cc-live-${storage.name}`;
      const { logger, provider } = cliLogger('claude-code', logExporter('grpc', collector));
      new ClaudeCode(logger, sessionId).apiError({ status: 429, error: ANTHROPIC_429 });
      await provider.forceFlush();
      const pushed = await live.waitFor(sessionId, (s) => s.lastError?.code === RATE_LIMIT, 10_000);
      expect(pushed?.lastError?.message).toBe(renderUserMessage(RATE_LIMIT, { provider: 'anthropic' }));
      await provider.shutdown();
    } finally {
      await live.close();
    }
  });

  it('Gemini CLI over gRPC with gzip (its defaults): a 429 api_error fails the session with the rate-limit code', async () => {
    const sessionId = `gemini-${storage.name}-${crypto.randomUUID()}`;
    // Gemini CLI puts its session id on the resource too (sdk.ts).
    const { logger, provider } = cliLogger('gemini-cli', logExporter('grpc', collector, { gzip: true }), { 'session.id': sessionId });
    const gemini = new GeminiCli(logger, sessionId);
    gemini.userPrompt('summarise the open issues');
    gemini.apiError({ model: 'gemini-2.5-pro', error: GEMINI_429, status: 429, errorType: 'ApiError', durationMs: 812 });
    await provider.forceFlush();

    const { session, timeline } = await detail(sessionId);
    expect(session).toMatchObject({ service: 'gemini-cli', provider: 'gcp.gemini', model: 'gemini-2.5-pro', errorCount: 1 });
    expect(session.lastError).toMatchObject({ code: RATE_LIMIT, message: renderUserMessage(RATE_LIMIT, { provider: 'gcp.gemini' }) });
    expect(session.lastError?.message).toMatch(/^Google Gemini is limiting/);
    const error = timeline.find((i) => i.kind === 'error')!.error!;
    expect(error).toMatchObject({ exceptionType: 'ApiError', upstreamStatus: 429, upstreamType: 'RESOURCE_EXHAUSTED' });
    expect(error.technicalMessage).toBe('Resource has been exhausted (e.g. check quota).');
    // Stamped in the same millisecond by the JS SDK, so found by name rather than position.
    const prompt = timeline.find((i) => i.name === 'gemini_cli.user_prompt');
    expect(prompt).toMatchObject({ kind: 'log', message: 'User prompt. Length: 25.' });
    expect(prompt?.details.prompt).toBe(PROMPT_NOT_STORED);
    await provider.shutdown();
  });

  it('Codex over HTTP/protobuf: a response.failed sse_event fails the conversation with the rate-limit code', async () => {
    const conversationId = crypto.randomUUID();
    const { logger, provider } = cliLogger('codex', logExporter('http/protobuf', collector));
    const codex = new Codex(logger, conversationId);
    codex.userPrompt('add retries to the uploader');
    codex.apiRequest({ attempt: 1, status: 200 });
    codex.sseFailed(CODEX_RESPONSE_FAILED);
    await provider.forceFlush();

    const { session, timeline } = await detail(conversationId);
    expect(session).toMatchObject({ service: 'codex_cli_rs', provider: 'openai', agent: 'codex', model: 'gpt-5-codex', errorCount: 1, spanCount: 3 });
    expect(session.lastError).toMatchObject({ code: RATE_LIMIT, message: renderUserMessage(RATE_LIMIT, { provider: 'openai' }) });
    expect(timeline.map((i) => [i.kind, i.name])).toEqual([
      ['log', 'codex.user_prompt'],
      ['log', 'codex.api_request'],
      ['error', 'codex.sse_event'],
    ]);
    const error = timeline[2].error!;
    // The provider's own words, out of the failed event's JSON; the JSON stays in the attributes.
    expect(error.technicalMessage).toMatch(/^Rate limit reached for gpt-5-codex/);
    expect(String(error.attributes['error.message'])).toContain('"rate_limit_exceeded"');
    expect(error.attributes['event.kind']).toBe('response.failed');
    await provider.shutdown();
  });

  it('Codex: a failed api_request attempt is an occurrence with its HTTP status', async () => {
    const conversationId = crypto.randomUUID();
    const { logger, provider } = cliLogger('codex', logExporter('grpc', collector));
    new Codex(logger, conversationId).apiRequest({ attempt: 1, status: 401, error: 'unexpected status 401 Unauthorized: Incorrect API key provided: sk-proj-****************************abcd.' });
    await provider.forceFlush();
    const { session, timeline } = await detail(conversationId);
    expect(session.lastError?.code).toBe('AGT-PROVIDER-AUTH');
    expect(timeline[0].error).toMatchObject({ upstreamStatus: 401 });
    await provider.shutdown();
  });

  it('a batch sent again (exporter retry, spool replay) is stored once', async () => {
    const sessionId = `cc-resend-${storage.name}`;
    const at = new Date(Date.now() - 5000);
    for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
      const { logger, provider } = cliLogger('claude-code', logExporter(protocol, collector));
      // The same records (same time, same sequence numbers) over each transport.
      const cc = new ClaudeCode(logger, sessionId);
      Object.assign(cc, { promptId: 'b0d1c2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e' });
      cc.apiRequest(at);
      cc.apiError({ status: 429, error: ANTHROPIC_429 }, at);
      await provider.forceFlush();
      await provider.shutdown();
    }
    const { session } = await detail(sessionId);
    expect(session).toMatchObject({ spanCount: 2, errorCount: 1 });
    const [{ n }] = await collector.deps.store.query<{ n: number }>('select count(*)::int as n from errors where session_id = $1', [sessionId]);
    expect(n).toBe(1);
  });
});
