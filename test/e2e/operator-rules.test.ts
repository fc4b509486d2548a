/**
 * docs/classification.md, run as written: its example rules file (FAULTLINE_RULES) changes the
 * code of matching spans sent by a plain OpenTelemetry producer, its codes show up with their own
 * words, and the bad-file example stops `npm start`'s entry point with exactly the message the
 * doc shows.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeWithStats, ErrorOccurrence, Page } from '@faultline/schema';
import { loadConfig } from '../../collector/src/config.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = fs.readFileSync(path.join(ROOT, 'docs/classification.md'), 'utf8');
const block = (lang: string) => {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(DOC);
  if (!m) throw new Error(`docs/classification.md has no \`\`\`${lang} block`);
  return m[1];
};
const RULES_YAML = block('yaml');
const BAD_FILE_OUTPUT = block('text').trimEnd();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-doc-rules-'));
const rulesFile = path.join(tmp, 'faultline-rules.yaml');
fs.writeFileSync(rulesFile, RULES_YAML);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One failing span per call, as a plain producer records it (no Faultline attributes). */
async function sendFailure(url: string, service: string, error: Error): Promise<string> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }))],
  });
  const span = provider.getTracer('checkout').startSpan('checkout.charge', { kind: SpanKind.INTERNAL, attributes: { 'session.id': `s-${service}-${error.name}` } });
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.end();
  await provider.shutdown();
  const { traceId, spanId } = span.spanContext();
  return `${traceId}:${spanId}`;
}

const err = (name: string, message: string) => Object.assign(new Error(message), { name });

describe.each(STORAGES.slice(0, 1))('the operator rules example of docs/classification.md on $name', (storage) => {
  let collector: RunningCollector;
  const stored = new Map<string, ErrorOccurrence>();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const config = loadConfig({ FAULTLINE_RULES: rulesFile });
    collector = await startTestCollector(storage, { rules: config.rules });
    ids.portal = await sendFailure(collector.url, 'checkout-agent', err('PortalUnavailableError', 'billing portal is unavailable (maintenance window)'));
    ids.otherPortal = await sendFailure(collector.url, 'checkout-agent', err('PortalUnavailableError', 'quota of portal sessions reached'));
    ids.batch = await sendFailure(collector.url, 'nightly-batch-agent', err('RateLimitError', '429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}'));
    ids.chat = await sendFailure(collector.url, 'chat-agent', err('RateLimitError', '429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}'));
    for (let attempt = 0; attempt < 50 && stored.size < 4; attempt++) {
      const page = (await (await fetch(`${collector.url}/api/errors?limit=50`)).json()) as Page<ErrorOccurrence>;
      for (const e of page.items) stored.set(e.id, e);
      if (stored.size < 4) await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(async () => {
    await collector?.close();
  });

  it('gives a matching span the operator’s own code and words, and says which rule chose it', () => {
    expect(stored.get(ids.portal)).toMatchObject({
      code: 'ACME-BILLING-PORTAL-DOWN',
      category: 'delivery',
      title: 'Billing portal unavailable',
      message: 'Our billing portal is down, so this step could not finish. Please try again in a few minutes.',
      retryable: 'yes',
      httpStatus: 503,
      classification: { rule: 'operator:billing-portal-down', signal: 'exception.type="PortalUnavailableError", message~"portal is unavailable"' },
    });
  });

  it('leaves spans that match no operator rule to the built-in rules', () => {
    expect(stored.get(ids.otherPortal)).toMatchObject({ code: 'AGT-WORKER-UNKNOWN', classification: { rule: 'unknown' } });
    expect(stored.get(ids.chat)).toMatchObject({ code: 'AGT-PROVIDER-RATE-LIMIT', classification: { rule: 'rate-limit-text' } });
  });

  it('maps a built-in error to another built-in code for the service the rule names', () => {
    expect(stored.get(ids.batch)).toMatchObject({ code: 'AGT-PROVIDER-OVERLOADED', classification: { rule: 'operator:batch-rate-limits-are-overload' } });
  });

  it('lists the operator’s code in the catalog API with its count, and filters sessions by it', async () => {
    const codes = (await (await fetch(`${collector.url}/api/codes`)).json()) as CodeWithStats[];
    expect(codes.find((c) => c.code === 'ACME-BILLING-PORTAL-DOWN')).toMatchObject({
      title: 'Billing portal unavailable',
      supportNote: 'Tell the customer the billing portal is in maintenance; nothing they did caused it.',
      count: 1,
    });
    const one = await fetch(`${collector.url}/api/codes/ACME-BILLING-PORTAL-DOWN`);
    expect(one.status).toBe(200);
    const sessions = (await (await fetch(`${collector.url}/api/sessions?code=ACME-BILLING-PORTAL-DOWN`)).json()) as Page<{ id: string }>;
    expect(sessions.items.map((s) => s.id)).toEqual(['s-checkout-agent-PortalUnavailableError']);
  });
});

describe('a bad rules file', () => {
  it('stops the collector’s start with the file, line and problem the doc shows', () => {
    // The doc's example mistake: a rule pointing at a misspelt code.
    const bad = path.join(tmp, 'bad-rules.yaml');
    fs.writeFileSync(bad, RULES_YAML.replace('    code: ACME-BILLING-PORTAL-DOWN\n\n', '    code: ACME-BILLING-PORTAL-DONW\n\n'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'collector/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, FAULTLINE_RULES: bad, PORT: '0', FAULTLINE_DATA_DIR: path.join(tmp, 'data'), DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().replaceAll(bad, './faultline-rules.yaml')).toBe(BAD_FILE_OUTPUT);
    expect(fs.existsSync(path.join(tmp, 'data'))).toBe(false);
  });
});
