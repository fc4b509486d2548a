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
    const out = await enrichSpansYielding(spans, 10);
    const total = performance.now() - started;
    clearInterval(timer);
    expect(out).toHaveLength(units.length);
    expect(JSON.stringify(out.map((s) => s.attributes['app.blob']))).not.toMatch(/password=[^[]/);
    console.log(`[figures] enrich 6 x 1 MiB adversarial: ${total.toFixed(0)} ms in all, longest stretch without yielding ${worstGap.toFixed(0)} ms`);
    // One span (1 MiB) at a time: a fraction of the whole, and well under a second.
    expect(worstGap).toBeLessThan(Math.max(500, total / 2));
  });
});
