import { describe, expect, it } from 'vitest';
import { scrubAttributes } from '@faultline/schema';
import type { DecodedSpan } from '../otlp/types.ts';
import { Scrubber, enrichSpan, enrichSpans, enrichSpansYielding } from './enrich.ts';

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
    const out = await enrichSpansYielding(spans, null, 10);
    const total = performance.now() - started;
    clearInterval(timer);
    expect(out).toHaveLength(units.length);
    expect(JSON.stringify(out.map((s) => s.attributes['app.blob']))).not.toMatch(/password=[^[]/);
    console.log(`[figures] enrich 6 x 1 MiB adversarial: ${total.toFixed(0)} ms in all, longest stretch without yielding ${worstGap.toFixed(0)} ms`);
    // One span (1 MiB) at a time: a fraction of the whole, and well under a second.
    expect(worstGap).toBeLessThan(Math.max(500, total / 2));
  });
});
