/**
 * Test support for the API tests: an agent runtime as a plain OpenTelemetry producer would look,
 * sending through the official OTLP/protobuf exporter to a real collector. Spans carry explicit
 * times so each test decides what is newer. (Tests only; nothing in the collector imports it.)
 */
import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR, SPAN, type Session } from '@faultline/schema';

export const BILLING_TEXT =
  'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.';

export class AgentTelemetry {
  private providers = new Map<string, BasicTracerProvider>();

  constructor(private readonly collectorUrl: string) {}

  private tracer(service: string) {
    let provider = this.providers.get(service);
    if (!provider) {
      provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ [ATTR.serviceName]: service }),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${this.collectorUrl}/v1/traces` }), { maxExportBatchSize: 500 })],
      });
      this.providers.set(service, provider);
    }
    return provider.getTracer('faultline-api-test');
  }

  private span(o: { service?: string; name: string; start: Date; end?: Date; attributes: Attributes; traceOf?: string; parentSpanId?: string }) {
    // A parent context puts the span into an existing trace (for the trace-id search).
    const ctx = o.traceOf
      ? trace.setSpanContext(ROOT_CONTEXT, { traceId: o.traceOf, spanId: o.parentSpanId ?? '1'.repeat(16), traceFlags: 1 })
      : ROOT_CONTEXT;
    return this.tracer(o.service ?? 'agent-runtime').startSpan(o.name, { startTime: o.start, attributes: o.attributes }, ctx);
  }

  /** A zero-length status span: the session entered `state`. Returns the trace id. */
  status(sessionId: string, state: Session['state'] & string, at: Date, o: { message?: string; service?: string; traceOf?: string } = {}): string {
    const s = this.span({
      ...o,
      name: SPAN.status,
      start: at,
      attributes: { [ATTR.sessionId]: sessionId, [ATTR.sessionState]: state, [ATTR.sessionStatusMessage]: o.message ?? state },
    });
    s.end(at);
    return s.spanContext().traceId;
  }

  heartbeat(sessionId: string, at: Date, details: Record<string, string | number>, o: { service?: string } = {}): string {
    const attributes: Attributes = { [ATTR.sessionId]: sessionId };
    for (const [k, v] of Object.entries(details)) attributes[`${ATTR.heartbeatPrefix}${k}`] = v;
    const s = this.span({ ...o, name: SPAN.heartbeat, start: at, attributes });
    s.end(at);
    return s.spanContext().traceId;
  }

  /** An `invoke_agent` turn, optionally with the assistant output it produced. */
  turn(sessionId: string, start: Date, end: Date, o: { agent?: string; output?: string; service?: string } = {}): string {
    const agent = o.agent ?? 'planner';
    const s = this.span({
      ...o,
      name: `${SPAN.turnPrefix} ${agent}`,
      start,
      attributes: {
        [ATTR.sessionId]: sessionId,
        [ATTR.genAiOperation]: 'invoke_agent',
        [ATTR.genAiAgent]: agent,
        [ATTR.genAiProvider]: 'anthropic',
        [ATTR.genAiModel]: 'claude-sonnet-4-5',
        ...(o.output ? { [ATTR.outputText]: o.output } : {}),
      },
    });
    s.end(end);
    return s.spanContext().traceId;
  }

  /**
   * Anthropic's "credit balance is too low" as a plain OTel producer reports it: a 400
   * invalid_request_error with no catalog code, for the collector's classifier to name.
   */
  billingError(sessionId: string, start: Date, end: Date, o: { service?: string } = {}): string {
    const s = this.span({
      ...o,
      name: 'chat claude-sonnet-4-5',
      start,
      attributes: {
        [ATTR.sessionId]: sessionId,
        [ATTR.genAiProvider]: 'anthropic',
        [ATTR.genAiModel]: 'claude-sonnet-4-5',
        [ATTR.httpStatus]: 400,
        [ATTR.upstreamType]: 'invalid_request_error',
      },
    });
    s.recordException(Object.assign(new Error(BILLING_TEXT), { name: 'BadRequestError' }), end);
    s.setStatus({ code: SpanStatusCode.ERROR, message: BILLING_TEXT });
    s.end(end);
    return s.spanContext().traceId;
  }

  /** A timeout the way the SDK reports one: catalog code in error.type plus the timeout kind. */
  timeout(sessionId: string, kind: string, code: string, at: Date, o: { service?: string } = {}): string {
    const s = this.span({
      ...o,
      name: 'activity run_agent',
      start: new Date(at.getTime() - 1000),
      attributes: { [ATTR.sessionId]: sessionId, [ATTR.errorType]: code, [ATTR.timeoutKind]: kind },
    });
    s.recordException(Object.assign(new Error(`activity ${kind} timeout`), { name: 'ActivityTimeoutError' }), at);
    s.setStatus({ code: SpanStatusCode.ERROR, message: `activity ${kind} timeout` });
    s.end(at);
    return s.spanContext().traceId;
  }

  /** Export everything ended so far; resolves after the collector committed it. */
  async flush(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.shutdown()));
  }
}

/** Minutes ago, as a Date. */
export const ago = (minutes: number, plusMs = 0) => new Date(Date.now() - minutes * 60_000 + plusMs);

export async function getJson<T = unknown>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}
