import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type SpanContext } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Real spans from the OpenTelemetry JS SDK for decoder tests: every attribute type, arrays, a
 * recorded exception, an ERROR status, a parent/child pair and two instrumentation scopes.
 * (Test support only; nothing in the collector imports it.)
 */
export async function makeSdkSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent-runtime', 'service.version': '1.4.2', 'host.cores': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const agent = provider.getTracer('faultline.agent', '0.1.0');
  const tools = provider.getTracer('faultline.tools');

  const turn = agent.startSpan('invoke_agent planner', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'session.id': 'sess-42',
      'gen_ai.agent.name': 'planner',
      'faultline.heartbeat.events': 17,
      'faultline.ratio': 0.25,
      'faultline.big': 2 ** 40,
      'faultline.retry': true,
      'faultline.tags': ['a', 'b', 'c'],
      'faultline.sizes': [1, 2, 3],
      'faultline.flags': [true, false],
      'faultline.weights': [0.5, 1.5],
      'faultline.empty': '',
    },
  });
  const tool = tools.startSpan(
    'execute_tool web_fetch',
    { kind: SpanKind.CLIENT, attributes: { 'http.response.status_code': 402, 'faultline.upstream.type': 'billing_error' } },
    trace.setSpan(ROOT_CONTEXT, turn),
  );
  const err = Object.assign(new Error('Your credit balance is too low to access the API'), { name: 'BillingError' });
  tool.recordException(err);
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'Your credit balance is too low' });
  tool.addEvent('retry.scheduled', { 'retry.attempt': 2 });
  tool.end();

  const server = agent.startSpan('POST /v1/messages', { kind: SpanKind.SERVER });
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  turn.end();
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

/** The same span with a different span context, to make spans the SDK itself would never produce. */
export function withSpanContext(span: ReadableSpan, patch: Partial<SpanContext>): ReadableSpan {
  const ctx = { ...span.spanContext(), ...patch };
  return Object.create(span, { spanContext: { value: () => ctx } }) as ReadableSpan;
}

export function hrTimeToNanos([seconds, nanos]: [number, number]): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
