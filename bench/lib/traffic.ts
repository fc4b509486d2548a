/**
 * Realistic agent-runtime traffic as OTLP protobuf, built once before anything is timed.
 *
 * A session is what the SDK emits for one agent run: status spans (starting → running → … →
 * completed or error), heartbeats, turns (`invoke_agent`) and tool calls (`execute_tool`). About
 * 5 % of spans are errors with an `exception` event: half carry an SDK catalog code, half are
 * plain OpenTelemetry errors the collector must classify itself (HTTP status, message). Every
 * span has unique ids, so re-running never hits the idempotency path by accident.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
const SCOPE = { name: '@faultline/sdk', version: '0.1.0' };

interface SpanSpec {
  name: string;
  kind?: SpanKind;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  error?: { type: string; message: string; stack: string };
}

/** Failures the seeds describe, as a runtime would report them. */
const ERRORS = [
  { attrs: { 'error.type': 'AGT-PROVIDER-BILLING', 'http.response.status_code': 400 }, type: 'BadRequestError', message: 'Your credit balance is too low to access the Anthropic API.' },
  { attrs: { 'http.response.status_code': 429, 'faultline.upstream.type': 'rate_limit_error' }, type: 'RateLimitError', message: 'Rate limit exceeded: 40000 input tokens per minute' },
  { attrs: { 'http.response.status_code': 529 }, type: 'APIError', message: 'Overloaded' },
  { attrs: { 'faultline.timeout.kind': 'heartbeat', 'faultline.temporal.timeout_type': 'HEARTBEAT' }, type: 'ActivityTimeoutError', message: 'Activity task timed out after 30s (heartbeat)' },
  { attrs: { 'faultline.errno': 'ECONNRESET' }, type: 'Error', message: 'read ECONNRESET while streaming from https://api.example.com/v1/messages' },
  { attrs: { 'cli.exit_code': 137, 'process.signal': 'SIGKILL' }, type: 'CliExitError', message: 'claude exited with code 137' },
];

const STACK = `Error: failed
    at Provider.request (/app/node_modules/provider/client.js:412:15)
    at async Agent.turn (/app/src/agent.ts:88:20)
    at async Runtime.run (/app/src/runtime.ts:41:5)`;

function readable(spec: SpanSpec, traceId: string, spanId: string, parentSpanId: string | undefined, resource: Resource): ReadableSpan {
  const events: TimedEvent[] = [];
  let status: { code: SpanStatusCode; message?: string } = { code: SpanStatusCode.UNSET };
  if (spec.error) {
    events.push({
      name: 'exception',
      time: hr(spec.endMs),
      attributes: { 'exception.type': spec.error.type, 'exception.message': spec.error.message, 'exception.stacktrace': spec.error.stack },
    });
    status = { code: SpanStatusCode.ERROR, message: spec.error.message };
  }
  const ctx = { traceId, spanId, traceFlags: 1 };
  return {
    name: spec.name,
    kind: spec.kind ?? SpanKind.INTERNAL,
    spanContext: () => ctx,
    parentSpanContext: parentSpanId ? { traceId, spanId: parentSpanId, traceFlags: 1 } : undefined,
    startTime: hr(spec.startMs),
    endTime: hr(spec.endMs),
    status,
    attributes: spec.attributes,
    links: [],
    events,
    duration: hr(spec.endMs - spec.startMs),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The spans of one session, ~`target` of them, ending around `endMs`. */
function sessionSpecs(n: number, target: number, endMs: number, errorRate: number): SpanSpec[] {
  const id = `bench-${hex(8)}`;
  const agent = ['planner', 'coder', 'reviewer'][n % 3];
  const base: Attributes = {
    'session.id': id,
    'gen_ai.agent.name': agent,
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': 'claude-sonnet-4',
    'tenant.id': `tenant-${n % 50}`,
  };
  const specs: SpanSpec[] = [];
  let t = endMs - target * 400;
  const status = (state: string, message?: string) => {
    const attributes: Attributes = { ...base, 'faultline.session.state': state };
    if (message) attributes['faultline.session.status_message'] = message;
    specs.push({ name: 'faultline.session.status', startMs: t, endMs: t, attributes });
    t += 5;
  };
  status('starting', 'Creating execution environment…');
  status('running');
  let failed = false;
  while (specs.length < target - 1) {
    const turnStart = t;
    const tools = 2;
    for (let k = 0; k < tools && specs.length < target - 2; k++) {
      const tool = ['web_fetch', 'bash', 'read_file'][k % 3];
      const spec: SpanSpec = {
        name: `execute_tool ${tool}`,
        startMs: t,
        endMs: t + 120,
        attributes: { ...base, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'tool.input_bytes': 812 },
      };
      // Tool calls are half the spans: twice the rate on them gives `errorRate` of all spans.
      if (Math.random() < errorRate * 2) {
        const e = ERRORS[Math.floor(Math.random() * ERRORS.length)];
        spec.attributes = { ...spec.attributes, ...e.attrs };
        spec.error = { type: e.type, message: `${e.message} (request_id: req_${hex(12)})`, stack: STACK };
        failed = true;
      }
      specs.push(spec);
      t += 130;
    }
    specs.push({
      name: 'faultline.session.heartbeat',
      startMs: t,
      endMs: t,
      attributes: { ...base, 'faultline.heartbeat.events_processed': specs.length * 7, 'faultline.heartbeat.phase': 'tool_loop' },
    });
    t += 10;
    specs.push({
      name: `invoke_agent ${agent}`,
      kind: SpanKind.CLIENT,
      startMs: turnStart,
      endMs: t,
      attributes: {
        ...base,
        'gen_ai.operation.name': 'invoke_agent',
        'faultline.turn.name': 'plan',
        'gen_ai.usage.input_tokens': 1832,
        'gen_ai.usage.output_tokens': 241,
        // Unique per turn, as real assistant output is: no cache may make it cheaper than it is.
        'faultline.output.text': `Turn ${specs.length} of ${id}: I updated src/parser.ts, ran ${n % 40} tests (all passed) and opened PR #${(n * 7919) % 100000}.`,
      },
    });
    t += 20;
  }
  status(failed ? 'error' : 'completed', failed ? 'The provider refused the request.' : undefined);
  return specs;
}

export interface TrafficBatch {
  body: Uint8Array;
  spans: number;
  errors: number;
}

/**
 * Batches of about `spansPerBatch` spans (sessions of ~20 spans each), each group with its own
 * resource, as the OTLP exporter of one runtime process would send them. With `splitAcross: k`,
 * every session's spans are cut into k consecutive parts sent in k different batches (an
 * exporter flushing mid-session), so concurrent writers update the same session rows.
 */
export function makeBatches(
  count: number,
  spansPerBatch: number,
  options: { errorRate?: number; endMs?: number; splitAcross?: number } = {},
): TrafficBatch[] {
  const errorRate = options.errorRate ?? 0.05;
  const endMs = options.endMs ?? Date.now();
  const k = Math.max(1, options.splitAcross ?? 1);
  const batches: TrafficBatch[] = [];
  let n = 0;
  for (let b = 0; b < count; b += k) {
    const size = Math.min(k, count - b);
    const resource = resourceFromAttributes({
      'service.name': `agent-runtime-${b % 4}`,
      'service.version': '1.4.2',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'host.name': `worker-${b % 16}`,
    });
    const parts: ReadableSpan[][] = Array.from({ length: size }, () => []);
    const errors = new Array<number>(size).fill(0);
    let total = 0;
    while (total < size * spansPerBatch) {
      const specs = sessionSpecs(n++, Math.min(20, size * spansPerBatch - total), endMs - Math.random() * 3_600_000, errorRate);
      const traceId = hex(16);
      const rootId = hex(8);
      specs.forEach((spec, i) => {
        const part = Math.floor((i * size) / specs.length);
        if (spec.error) errors[part]++;
        parts[part].push(readable(spec, traceId, i === 0 ? rootId : hex(8), i === 0 ? undefined : rootId, resource));
      });
      total += specs.length;
    }
    parts.forEach((spans, i) => batches.push({ body: ProtobufTraceSerializer.serializeRequest(spans)!, spans: spans.length, errors: errors[i] }));
  }
  return batches;
}

/** One status span per session (e.g. all `running` now): sessions that then go silent. */
export function makeStatusBatch(sessionIds: string[], state: string, endMs: number): Uint8Array {
  const resource = resourceFromAttributes({ 'service.name': 'agent-runtime-stuck' });
  const spans = sessionIds.map((id) =>
    readable(
      { name: 'faultline.session.status', startMs: endMs, endMs, attributes: { 'session.id': id, 'faultline.session.state': state } },
      hex(16),
      hex(8),
      undefined,
      resource,
    ),
  );
  return ProtobufTraceSerializer.serializeRequest(spans)!;
}
