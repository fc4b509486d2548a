/**
 * Traces from agent frameworks form sessions through the contract's alias table: the real Vercel
 * AI SDK (`ai`, with its own mock model so no network is used) exporting through the official
 * OTLP exporter, and spans shaped as OpenInference (LangGraph) and OpenLLMetry record them.
 */
import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { APICallError, generateText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPT_NOT_STORED, renderUserMessage, type SessionDetail } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { getJson } from './support.ts';

function tracing(collector: RunningCollector, service: string): { tracer: Tracer; provider: BasicTracerProvider } {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }))],
  });
  return { tracer: provider.getTracer(service), provider };
}

describe.each(STORAGES)('agent frameworks on $name', (storage) => {
  let collector: RunningCollector;
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(async () => {
    // What the AI SDK's docs have an app do (NodeSDK / registerOTel): nested calls become child spans.
    context.setGlobalContextManager(contextManager.enable());
    collector = await startTestCollector(storage);
  });
  afterAll(async () => {
    context.disable();
    await collector?.close();
  });

  const detail = (id: string) => getJson<SessionDetail>(`${collector.url}/api/sessions/${encodeURIComponent(id)}`);

  it('Vercel AI SDK: calls with `metadata.sessionId` form one session, and a 429 fails it with the rate-limit code', async () => {
    const { tracer, provider } = tracing(collector, 'support-bot');
    const sessionId = `chat-${storage.name}-${crypto.randomUUID()}`;
    const telemetry = { isEnabled: true, functionId: 'support-chat', metadata: { sessionId, userId: 'u-17' }, tracer };
    const ok = new MockLanguageModelV3({
      provider: 'openai.chat',
      modelId: 'gpt-4o',
      doGenerate: async () => ({
        content: [{ type: 'text', text: 'Your order ships tomorrow.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: { inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 7, text: 7, reasoning: 0 } },
        warnings: [],
      }),
    });
    await generateText({ model: ok, prompt: 'Where is order 1234? My card is 4111 1111 1111 1111', experimental_telemetry: telemetry });
    const limited = new MockLanguageModelV3({
      provider: 'openai.chat',
      modelId: 'gpt-4o',
      doGenerate: async () => {
        // What @ai-sdk/openai throws for a 429 (its message is the API's error message).
        throw new APICallError({
          message: 'Rate limit reached for gpt-4o in organization org-3xQ on requests per min (RPM): Limit 500, Used 500, Requested 1.',
          url: 'https://api.openai.com/v1/chat/completions',
          requestBodyValues: {},
          statusCode: 429,
          responseBody: '{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}',
          isRetryable: true,
        });
      },
    });
    await expect(generateText({ model: limited, prompt: 'And order 5678?', maxRetries: 0, experimental_telemetry: telemetry })).rejects.toThrow(/Rate limit reached/);
    await provider.forceFlush();

    const { session, timeline } = await detail(sessionId);
    expect(session).toMatchObject({ service: 'support-bot', provider: 'openai', model: 'gpt-4o', errorCount: 1 });
    expect(session.lastError).toMatchObject({ code: 'AGT-PROVIDER-RATE-LIMIT', message: renderUserMessage('AGT-PROVIDER-RATE-LIMIT', { provider: 'openai' }) });
    const names = timeline.map((i) => i.name);
    expect(names.filter((n) => n === 'ai.generateText.doGenerate')).toHaveLength(2);
    // Recorded on ai.generateText.doGenerate and again on ai.generateText: one failure, one occurrence.
    const failed = timeline.filter((i) => i.kind === 'error');
    expect(failed.map((i) => i.name)).toEqual(['ai.generateText.doGenerate']);
    expect(failed[0].error).toMatchObject({ exceptionType: 'AI_APICallError' });
    expect(timeline.find((i) => i.name === 'ai.generateText' && i.statusCode === 2)).toMatchObject({ kind: 'span', code: 'AGT-PROVIDER-RATE-LIMIT' });
    // The AI SDK records prompts by default; Faultline does not store them unless told to.
    const first = timeline.find((i) => i.name === 'ai.generateText')!;
    expect(first.details['ai.prompt']).toBe(PROMPT_NOT_STORED);
    expect(JSON.stringify(timeline)).not.toContain('4111');
    await provider.shutdown();
  });

  it('OpenInference (LangGraph): the thread id inside `metadata` forms the session; llm.provider names the provider', async () => {
    const { tracer, provider } = tracing(collector, 'langgraph-agent');
    const thread = `thread-${storage.name}-${crypto.randomUUID()}`;
    // openinference-instrumentation-langchain: `metadata` is the run's metadata as JSON (LangGraph copies configurable.thread_id into it).
    const metadata = JSON.stringify({ thread_id: thread, langgraph_step: 2, langgraph_node: 'agent' });
    const chain = tracer.startSpan('LangGraph', { attributes: { 'openinference.span.kind': 'CHAIN', metadata, 'input.value': '{"messages":[["user","refund my order"]]}' } });
    const llm = tracer.startSpan('ChatAnthropic', {
      attributes: { 'openinference.span.kind': 'LLM', metadata, 'llm.provider': 'anthropic', 'llm.system': 'anthropic', 'llm.model_name': 'claude-sonnet-4-5' },
    }, trace.setSpan(ROOT_CONTEXT, chain));
    // The instrumentor records the error on every run it unwinds: the LLM run, then the graph.
    const error = { name: 'InternalServerError', message: 'Error code: 529 - {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' };
    for (const span of [llm, chain]) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span.end();
    }
    await provider.forceFlush();
    const { session } = await detail(thread);
    // One failure, one occurrence, though two spans recorded it.
    expect(session).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', errorCount: 1 });
    expect(session.lastError?.code).toBe('AGT-PROVIDER-OVERLOADED');
    await provider.shutdown();
  });

  it('OpenLLMetry: association properties carry the session; gen_ai.system the provider', async () => {
    const { tracer, provider } = tracing(collector, 'travel-agent');
    const sessionId = `ol-${storage.name}-${crypto.randomUUID()}`;
    const span = tracer.startSpan('openai.chat', {
      attributes: { 'traceloop.association.properties.session_id': sessionId, 'traceloop.span.kind': 'task', 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.prompt.0.content': 'book a flight to Lisbon' },
    });
    span.recordException({ name: 'AuthenticationError', message: "Error code: 401 - {'error': {'message': 'Incorrect API key provided', 'type': 'invalid_request_error', 'code': 'invalid_api_key'}}" });
    span.setAttribute('error.type', 'AuthenticationError');
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    await provider.forceFlush();
    const { session, timeline } = await detail(sessionId);
    expect(session).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(session.lastError?.code).toBe('AGT-PROVIDER-AUTH');
    expect(timeline[0].details['gen_ai.prompt.0.content']).toBe(PROMPT_NOT_STORED);
    await provider.shutdown();
  });
});
