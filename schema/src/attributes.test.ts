import { describe, expect, it } from 'vitest';
import {
  isPromptAttribute,
  normalizeProvider,
  resolveAgent,
  resolveModel,
  resolveProvider,
  resolveSessionId,
  SESSION_ID_ALIASES,
} from './attributes.ts';

describe('session id aliases', () => {
  it('finds the session under each producer\'s own name', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ 'session.id': 'claude-1' }, 'claude-1'],
      [{ 'gen_ai.conversation.id': 'gemini-span-1' }, 'gemini-span-1'],
      [{ 'conversation.id': '0199a7c2-codex' }, '0199a7c2-codex'],
      [{ 'ai.telemetry.metadata.sessionId': 'vercel-1' }, 'vercel-1'],
      [{ 'ai.telemetry.metadata.threadId': 'vercel-thread' }, 'vercel-thread'],
      [{ 'langsmith.metadata.thread_id': 'lg-thread-9' }, 'lg-thread-9'],
      [{ 'traceloop.association.properties.session_id': 'tl-1' }, 'tl-1'],
      [{ thread_id: 42 }, '42'],
      // OpenInference's LangChain instrumentor: LangGraph's thread id inside the metadata JSON.
      [{ metadata: '{"thread_id": "lg-7", "langgraph_step": 3}' }, 'lg-7'],
    ];
    for (const [attrs, id] of cases) expect(resolveSessionId(attrs, {}), JSON.stringify(attrs)).toBe(id);
  });

  it('prefers the span\'s attributes (in list order) over the resource, and ignores empty values', () => {
    expect(resolveSessionId({ 'conversation.id': 'from-span' }, { 'session.id': 'from-resource' })).toBe('from-span');
    expect(resolveSessionId({ 'session.id': 'a', 'gen_ai.conversation.id': 'b' }, {})).toBe('a');
    expect(resolveSessionId({ 'session.id': '', 'gen_ai.conversation.id': 'b' }, {})).toBe('b');
    expect(resolveSessionId({}, { 'session.id': 'gemini-resource' })).toBe('gemini-resource');
    expect(resolveSessionId({ metadata: 'not json with thread_id' }, {})).toBeNull();
    expect(resolveSessionId({ 'session.id': { nested: true } }, {})).toBeNull();
    expect(SESSION_ID_ALIASES[0]).toBe('session.id');
  });
});

describe('provider, model and agent', () => {
  it('reads the provider from GenAI, older GenAI, Vercel AI SDK and OpenInference names, as GenAI ids', () => {
    expect(resolveProvider({ 'gen_ai.provider.name': 'anthropic' }, {})).toBe('anthropic');
    expect(resolveProvider({ 'gen_ai.system': 'openai' }, {})).toBe('openai');
    expect(resolveProvider({ 'ai.model.provider': 'anthropic.messages' }, {})).toBe('anthropic');
    expect(resolveProvider({ 'ai.model.provider': 'openai.responses' }, {})).toBe('openai');
    expect(resolveProvider({ 'ai.model.provider': 'google.generative-ai' }, {})).toBe('gcp.gemini');
    expect(resolveProvider({ 'ai.model.provider': 'amazon-bedrock' }, {})).toBe('aws.bedrock');
    expect(resolveProvider({ 'llm.provider': 'Anthropic' }, {})).toBe('anthropic');
    expect(normalizeProvider('gcp.vertex_ai')).toBe('gcp.vertex_ai');
    expect(normalizeProvider('my-local-llm')).toBe('my-local-llm');
  });

  it('falls back to what an agent CLI\'s service.name implies', () => {
    expect(resolveProvider({}, { 'service.name': 'claude-code' })).toBe('anthropic');
    expect(resolveAgent({}, { 'service.name': 'codex_cli_rs' })).toBe('codex');
    expect(resolveProvider({}, { 'service.name': 'gemini-cli' })).toBe('gcp.gemini');
    // What the event says wins over the default (Claude Code on Bedrock reports no provider, Gemini on Vertex may).
    expect(resolveProvider({ 'gen_ai.provider.name': 'gcp.vertex_ai' }, { 'service.name': 'gemini-cli' })).toBe('gcp.vertex_ai');
    expect(resolveProvider({}, { 'service.name': 'constructor' })).toBeNull();
  });

  it('reads the model from GenAI, Vercel AI SDK, OpenInference and the CLIs\' `model`', () => {
    expect(resolveModel({ 'gen_ai.request.model': 'claude-sonnet-4-5', model: 'x' }, {})).toBe('claude-sonnet-4-5');
    expect(resolveModel({ 'ai.model.id': 'gpt-4o' }, {})).toBe('gpt-4o');
    expect(resolveModel({ 'llm.model_name': 'gpt-4o-mini' }, {})).toBe('gpt-4o-mini');
    expect(resolveModel({ model: 'gemini-2.5-pro' }, {})).toBe('gemini-2.5-pro');
  });
});

describe('prompt attributes', () => {
  it('covers the CLIs\', GenAI, Vercel AI SDK, OpenInference and OpenLLMetry prompt keys, flattened lists included', () => {
    for (const key of ['prompt', 'request_text', 'gen_ai.input.messages', 'ai.prompt', 'ai.prompt.messages', 'input.value', 'gen_ai.prompt.0.content', 'llm.input_messages.1.message.content']) {
      expect(isPromptAttribute(key), key).toBe(true);
    }
    for (const key of ['prompt_length', 'prompt.id', 'prompt_id', 'ai.result.text', 'gen_ai.usage.input_tokens', 'output.value']) {
      expect(isPromptAttribute(key), key).toBe(false);
    }
  });
});
