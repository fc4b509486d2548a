/**
 * A producer configured only from the environment a connect guide prescribes: the official
 * OpenTelemetry Node SDK (NodeSDK reads OTEL_*), sending records shaped as `EMIT` says
 * (test/support/agent-clis.ts). Run by guides.test.ts in a child process so the guide's
 * environment is the process's environment.
 */
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ANTHROPIC_429, CLI_RESOURCES, ClaudeCode } from '../support/agent-clis.ts';

const what = process.env.EMIT;
const session = process.env.EMIT_SESSION!;

// Claude Code sets its own resource; the other producers take theirs from OTEL_SERVICE_NAME.
const sdk = new NodeSDK(what === 'claude-code' ? { resource: resourceFromAttributes(CLI_RESOURCES['claude-code']) } : {});
sdk.start();

if (what === 'claude-code') {
  const cc = new ClaudeCode(logs.getLogger('com.anthropic.claude_code.events'), session);
  cc.userPrompt('migrate the settings page');
  cc.apiRequest();
  cc.apiError({ status: 429, error: ANTHROPIC_429 });
  metrics.getMeter('com.anthropic.claude_code').createCounter('claude_code.session.count').add(1, { 'session.id': session });
} else if (what === 'openinference') {
  // A LangGraph LLM run as openinference-instrumentation-langchain records it.
  const span = trace.getTracer('openinference.instrumentation.langchain').startSpan('ChatOpenAI', {
    attributes: { 'openinference.span.kind': 'LLM', metadata: JSON.stringify({ thread_id: session, langgraph_node: 'agent' }), 'llm.provider': 'openai', 'llm.model_name': 'gpt-4o' },
  });
  span.recordException({ name: 'RateLimitError', message: "Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o', 'type': 'requests', 'code': 'rate_limit_exceeded'}}" });
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
} else if (what === 'otel-sdk') {
  trace.getTracer('my-agent').startSpan('invoke_agent planner', { attributes: { 'session.id': session, 'gen_ai.provider.name': 'anthropic' } }).end();
  logs.getLogger('my-agent').emit({
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: 'model call failed',
    attributes: { 'session.id': session, 'exception.type': 'APIError', 'exception.message': 'Overloaded', 'http.response.status_code': 529 },
  });
} else {
  throw new Error(`EMIT must be claude-code, openinference or otel-sdk, got ${what}`);
}

await sdk.shutdown();
console.log('emitted');
