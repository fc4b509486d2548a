import { describe, expect, it } from 'vitest';
import { PROMPT_NOT_STORED, scrubAttributes } from '@faultline/schema';
import type { DecodedLogRecord, DecodedSpan } from '../otlp/types.ts';
import { Scrubber, enrichSpan, enrichSpans, enrichSpansYielding, providerErrorInText } from './enrich.ts';
import { logRecordsToSpans } from './logs.ts';

const attrs = {
  'session.id': 'sess-1',
  'http.request.header.authorization': 'Bearer abcdefghijklmnop',
  'faultline.output.text': 'called https://bob:hunter2@example.com with api_key=sk-abcdefghijklmnopqrstuv',
  'faultline.tags': ['token=abcdef123456', 'plain'],
  'gen_ai.usage.input_tokens': 1832,
  'faultline.retry': true,
  'faultline.empty_secret_token': '',
};

function span(spanId: string, message: string): DecodedSpan {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId,
    parentSpanId: null,
    name: 'execute_tool web_fetch',
    kind: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_000_100_000_000n,
    statusCode: 2,
    statusMessage: message,
    attributes: { ...attrs, 'http.response.status_code': 401 },
    events: [{ name: 'exception', timeUnixNano: 1_700_000_000_100_000_000n, attributes: { 'exception.message': message } }],
    resource: { 'service.name': 'agent-runtime' },
  } as unknown as DecodedSpan;
}

describe('Scrubber', () => {
  it('removes the same secrets as scrubAttributes, also when a value repeats', () => {
    const scrub = new Scrubber();
    const expected = scrubAttributes(attrs);
    expect(scrub.attributes(attrs)).toEqual(expected);
    expect(scrub.attributes(attrs)).toEqual(expected);
    expect(JSON.stringify(expected)).not.toMatch(/hunter2|abcdefghijklmnop|sk-abc|abcdef123456/);
  });
});

describe('enrichSpans', () => {
  it('enriches a request exactly like span-by-span enrichment, secrets scrubbed everywhere', () => {
    const message = 'Unauthorized: key sk-abcdefghijklmnopqrstuv was rejected';
    const spans = [span('b7ad6b7169203331', message), span('b7ad6b7169203332', message)];
    const together = enrichSpans(spans);
    expect(together).toEqual(spans.map((s) => enrichSpan(s)));
    for (const e of together) {
      expect(JSON.stringify([e.attributes, e.events, e.statusMessage, e.error?.technicalMessage])).not.toMatch(/sk-abc|hunter2/);
    }
  });
});

function plainSpan(over: Partial<DecodedSpan> & { exception?: Record<string, string> }): DecodedSpan {
  const { exception, ...rest } = over;
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'c7ad6b7169203331',
    parentSpanId: null,
    name: 'agent.turn',
    kind: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_000_100_000_000n,
    statusCode: 2,
    statusMessage: exception?.['exception.message'] ?? null,
    attributes: {},
    events: exception ? [{ name: 'exception', timeUnixNano: 1_700_000_000_100_000_000n, attributes: exception }] : [],
    resource: { 'service.name': 'agent-runtime' },
    scopeName: null,
    ...rest,
  };
}

describe('classification of a plain producer’s error span', () => {
  it('reads the Temporal interceptor’s span and the server’s timeout text, and keeps the rule and signal', () => {
    const enriched = enrichSpan(
      plainSpan({
        name: 'RunWorkflow:agentWorkflow',
        scopeName: '@temporalio/interceptor-workflow',
        exception: { 'exception.type': 'TimeoutFailure', 'exception.message': 'activity Heartbeat timeout' },
      }),
    );
    expect(enriched.error).toMatchObject({
      code: 'AGT-TIMEOUT-HEARTBEAT',
      rule: 'temporal-timeout-text',
      ruleSignal: 'message~"activity Heartbeat timeout"',
      timeoutKind: 'heartbeat',
    });
  });

  it('never words the runtime’s own TypeError as a provider problem, even with a provider on the resource', () => {
    const enriched = enrichSpan(
      plainSpan({
        resource: { 'service.name': 'agent-runtime', 'gen_ai.provider.name': 'anthropic' },
        exception: { 'exception.type': 'TypeError', 'exception.message': "Cannot read properties of undefined (reading 'map')" },
      }),
    );
    expect(enriched.error).toMatchObject({ code: 'AGT-WORKER-UNKNOWN', rule: 'runtime-error', ruleSignal: 'exception.type="TypeError"' });
    expect(enriched.error!.message).toBe('Something went wrong while the agent was working.');
  });

  it('stores the SDK’s own rule and signal with the code it sent', () => {
    const enriched = enrichSpan(
      plainSpan({ attributes: { 'error.type': 'AGT-PROVIDER-BILLING', 'faultline.classifier.rule': 'billing-text', 'faultline.classifier.signal': 'message~"credit balance is too low"' } }),
    );
    expect(enriched.error).toMatchObject({ code: 'AGT-PROVIDER-BILLING', rule: 'billing-text', ruleSignal: 'message~"credit balance is too low"' });
  });

  it('scrubs secrets out of the signal, which quotes the message', () => {
    const enriched = enrichSpan(
      plainSpan({ exception: { 'exception.type': 'Error', 'exception.message': 'Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx. You can find your API key at …' } }),
    );
    expect(enriched.error?.code).toBe('AGT-PROVIDER-AUTH');
    expect(enriched.error?.ruleSignal).toBe('message~"Incorrect API key provided"');
    const withSecretInSignal = enrichSpan(plainSpan({ exception: { 'exception.type': 'Error', 'exception.message': 'api_key=sk-abcdefghijklmnopqrstuv something odd' } }));
    expect(withSecretInSignal.error?.ruleSignal).not.toContain('sk-abc');
  });
});

describe('prompt text', () => {
  // A Vercel AI SDK `ai.generateText` span as it records inputs by default.
  const vercel = {
    ...span('c7ad6b7169203331', 'x'),
    name: 'ai.generateText',
    statusCode: 0,
    statusMessage: null,
    events: [],
    attributes: {
      'ai.telemetry.metadata.sessionId': 'chat-42',
      'ai.model.provider': 'openai.chat',
      'ai.model.id': 'gpt-4o',
      'ai.prompt': '{"prompt":"my password is hunter2, summarise my inbox"}',
      'ai.result.text': 'Here is the summary.',
    },
  } as unknown as DecodedSpan;

  it('is replaced by a marker unless the operator keeps it, and the rest of the span is unchanged', () => {
    const [dropped] = enrichSpans([vercel]);
    expect(dropped.attributes['ai.prompt']).toBe(PROMPT_NOT_STORED);
    expect(dropped).toMatchObject({ sessionId: 'chat-42', provider: 'openai', model: 'gpt-4o' });
    expect(dropped.attributes['ai.result.text']).toBe('Here is the summary.');
    const [kept] = enrichSpans([vercel], { storePrompts: true });
    // Kept, and still scrubbed like any text.
    expect(kept.attributes['ai.prompt']).toBe('{"prompt":"my password is hunter2, summarise my inbox"}');
  });

  it('drops the body of a GenAI user-message log event too', () => {
    const [event] = enrichSpans(logRecordsToSpans([{ ...logRecord, eventName: 'gen_ai.user.message', body: 'What is in my private notes?' }]));
    expect(event.statusMessage).toBe(PROMPT_NOT_STORED);
    const [kept] = enrichSpans(logRecordsToSpans([{ ...logRecord, eventName: 'gen_ai.user.message', body: 'What is in my private notes?' }]), { storePrompts: true });
    expect(kept.statusMessage).toBe('What is in my private notes?');
  });
});

const logRecord: DecodedLogRecord = {
  timeUnixNano: 1_700_000_000_000_000_000n,
  observedTimeUnixNano: 1_700_000_000_000_500_000n,
  severityNumber: 9,
  severityText: 'INFO',
  body: null,
  attributes: { 'session.id': 'log-1' },
  eventName: null,
  traceId: null,
  spanId: null,
  resource: { 'service.name': 'app' },
  scopeName: 'app',
};

describe('log records', () => {
  it('get the same id when sent again, and different ids when anything differs', () => {
    const once = logRecordsToSpans([logRecord])[0];
    const again = logRecordsToSpans([{ ...logRecord, attributes: { ...logRecord.attributes }, resource: { ...logRecord.resource } }])[0];
    expect([again.traceId, again.spanId]).toEqual([once.traceId, once.spanId]);
    // A pipeline that re-stamps the observed time does not make it a new record.
    expect(logRecordsToSpans([{ ...logRecord, observedTimeUnixNano: 5n }])[0].spanId).toBe(once.spanId);
    for (const change of [{ timeUnixNano: 1n }, { body: 'x' }, { attributes: { 'session.id': 'log-2' } }, { resource: { 'service.name': 'other' } }, { severityNumber: 17 }]) {
      expect(logRecordsToSpans([{ ...logRecord, ...change }])[0].spanId, JSON.stringify(change, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toBe(once.spanId);
    }
  });

  it('keep the trace they were emitted in, with their span as the parent', () => {
    const [s] = logRecordsToSpans([{ ...logRecord, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }]);
    expect(s).toMatchObject({ traceId: '5b8efff798038103d269b633813fc60c', parentSpanId: 'eee19b7ec3c1b174', name: 'log', statusCode: 0 });
    expect(s.spanId).not.toBe('eee19b7ec3c1b174');
  });

  it('are classified from where each CLI keeps status, error text and type', () => {
    const [gemini] = enrichSpans(
      logRecordsToSpans([
        {
          ...logRecord,
          body: 'API error for gemini-2.5-pro. Error: x. Duration: 812ms.',
          attributes: { 'session.id': 'g-1', 'event.name': 'gemini_cli.api_error', error: 'got status: 503 Service Unavailable. {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}', status_code: 503, 'error.type': 'ApiError' },
          resource: { 'service.name': 'gemini-cli' },
        },
      ]),
    );
    expect(gemini.error).toMatchObject({ code: 'AGT-PROVIDER-OVERLOADED', upstreamStatus: 503, exceptionType: 'ApiError', technicalMessage: 'The model is overloaded. Please try again later.' });
    expect(gemini.error?.message).toMatch(/^Google Gemini/);
    const [internal] = enrichSpans(
      logRecordsToSpans([{ ...logRecord, body: 'claude_code.internal_error', attributes: { 'session.id': 'c-1', 'event.name': 'internal_error', error_name: 'Error', error_code: 'ECONNRESET' }, resource: { 'service.name': 'claude-code' } }]),
    );
    // The CLI's own internal error names no provider call: a dropped connection there is not blamed on Anthropic.
    expect(internal.error).toMatchObject({ code: 'AGT-WORKER-UNKNOWN', exceptionType: 'Error' });
    const [timedOut] = enrichSpans(
      logRecordsToSpans([{ ...logRecord, body: 'claude_code.api_error', attributes: { 'session.id': 'c-1', 'event.name': 'api_error', error: 'Request timed out.', status_code: 'undefined', attempt: 11 }, resource: { 'service.name': 'claude-code' } }]),
    );
    expect(timedOut.error).toMatchObject({ code: 'AGT-PROVIDER-TIMEOUT' });
    expect(timedOut.error?.message).toMatch(/Anthropic/);
  });
});

describe('providerErrorInText', () => {
  it('reads OpenAI, Responses API, Anthropic and Google error bodies, after a prefix', () => {
    expect(providerErrorInText('{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}')).toEqual({
      code: 'insufficient_quota',
      type: 'insufficient_quota',
      message: 'You exceeded your current quota',
    });
    expect(providerErrorInText('{"type":"response.failed","response":{"error":{"code":"server_error","message":"An error occurred"}}}')).toEqual({ code: 'server_error', type: null, message: 'An error occurred' });
    expect(providerErrorInText('529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')).toEqual({ code: null, type: 'overloaded_error', message: 'Overloaded' });
    expect(providerErrorInText('got status: 429 . {"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}')).toEqual({
      code: null,
      type: 'RESOURCE_EXHAUSTED',
      message: 'Resource has been exhausted',
    });
    expect(providerErrorInText('socket hang up')).toBeNull();
    expect(providerErrorInText('bad {json')).toBeNull();
  });
});

describe('enrichSpansYielding', () => {
  it('gives the event loop back between spans, so a timer fires while megabytes of adversarial strings are scrubbed', async () => {
    const MB = 1 << 20;
    const units = ['x_token: ', 'a://b:', 'password=', 'keykey=', '"secret": "', 'Bearer '];
    const spans = units.map((u, i) => {
      const s = span(`00000000000000a${i}`, 'failed');
      return { ...s, attributes: { ...s.attributes, 'app.blob': u.repeat(Math.ceil(MB / u.length)).slice(0, MB) } };
    });
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      worstGap = Math.max(worstGap, performance.now() - last);
      last = performance.now();
    }, 1);
    const started = performance.now();
    const out = await enrichSpansYielding(spans, {}, 10);
    const total = performance.now() - started;
    clearInterval(timer);
    expect(out).toHaveLength(units.length);
    expect(JSON.stringify(out.map((s) => s.attributes['app.blob']))).not.toMatch(/password=[^[]/);
    console.log(`[figures] enrich 6 x 1 MiB adversarial: ${total.toFixed(0)} ms in all, longest stretch without yielding ${worstGap.toFixed(0)} ms`);
    // One span (1 MiB) at a time: a fraction of the whole, and well under a second.
    expect(worstGap).toBeLessThan(Math.max(500, total / 2));
  });
});
