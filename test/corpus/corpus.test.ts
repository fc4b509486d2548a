/**
 * The real-error corpus (schema/corpus/*.json): errors quoted from provider SDKs, agent CLIs,
 * Temporal, Modal, MCP, Node/undici, databases and the seed systems, each with its source.
 *
 * Every sample becomes a span recorded by the official OpenTelemetry JS SDK — a JS error through
 * `span.recordException` (which writes `err.code ?? err.name` into exception.type), a Python, Go or
 * Java error as the `exception` event those SDKs write — with only the attributes a plain
 * instrumentation sets. Pass 1 exports them all (OTLP/protobuf, batched) to one real collector and
 * reads the codes back from the API; pass 2 classifies the same recorded spans with the pure
 * classifier. Both must get every sample right; both print accuracy per category.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CATALOG, CATEGORIES, classifierInputFromAttributes, classify, getCatalogEntry, spanKindName, type ErrorOccurrence } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';

const CORPUS_DIR = fileURLToPath(new URL('../../schema/corpus/', import.meta.url));

const attributeValue = z.union([z.string(), z.number(), z.boolean()]);
const sampleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    language: z.enum(['js', 'python', 'go', 'java', 'none']),
    /** js: the thrown value's name, message and code; others: exception.type and exception.message as their SDK writes them. */
    exception: z
      .object({
        name: z.string().optional(),
        code: z.union([z.string(), z.number()]).optional(),
        type: z.string().optional(),
        message: z.string(),
      })
      .strict()
      .optional(),
    span: z
      .object({
        name: z.string().min(1),
        kind: z.enum(['internal', 'server', 'client', 'producer', 'consumer']),
        scope: z.string().optional(),
        attributes: z.record(z.string(), attributeValue).optional(),
      })
      .strict(),
    statusMessage: z.string().nullable().optional(),
    expected: z.string().refine((code) => getCatalogEntry(code) !== undefined, { error: 'is not a catalog code' }),
    source: z.string().min(8),
    note: z.string().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.language === 'js' && s.exception?.name === undefined) ctx.addIssue({ code: 'custom', message: 'a js sample needs exception.name' });
    if (s.language !== 'js' && s.language !== 'none' && s.exception?.type === undefined) ctx.addIssue({ code: 'custom', message: 'needs exception.type' });
    if (s.language === 'none' && s.exception !== undefined) ctx.addIssue({ code: 'custom', message: 'a span without an exception has no exception' });
  });
type Sample = z.output<typeof sampleSchema> & { system: string };

function loadCorpus(): Sample[] {
  const samples: Sample[] = [];
  for (const file of readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json')).sort()) {
    const doc = z
      .object({ system: z.string(), samples: z.array(sampleSchema) })
      .strict()
      .parse(JSON.parse(readFileSync(`${CORPUS_DIR}${file}`, 'utf8')));
    for (const s of doc.samples) samples.push({ ...s, system: doc.system });
  }
  return samples;
}

const KINDS = { internal: SpanKind.INTERNAL, server: SpanKind.SERVER, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER };
const NATIVE: Record<string, ErrorConstructor> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** The thrown value a JS runtime would hold: real built-in and DOMException classes where the name is one. */
function thrownValue(e: NonNullable<Sample['exception']>): Error {
  const name = e.name!;
  if (name in NATIVE && e.code === undefined) return new NATIVE[name](e.message);
  if ((name === 'AbortError' || name === 'TimeoutError') && typeof e.code === 'number') return new DOMException(e.message, name);
  return Object.assign(new Error(e.message), { name, ...(e.code !== undefined ? { code: e.code } : {}) });
}

/** Records one sample the way its SDK would, on a fresh span. */
function record(provider: BasicTracerProvider, s: Sample): string {
  const tracer = provider.getTracer(s.span.scope ?? 'corpus');
  const span = tracer.startSpan(s.span.name, { kind: KINDS[s.span.kind], attributes: (s.span.attributes ?? {}) as Attributes });
  let message = s.statusMessage ?? undefined;
  if (s.exception !== undefined) {
    if (s.language === 'js') span.recordException(thrownValue(s.exception));
    else span.addEvent('exception', { 'exception.type': s.exception.type!, 'exception.message': s.exception.message });
    message ??= s.exception.message;
  }
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  span.end();
  const { traceId, spanId } = span.spanContext();
  return `${traceId}:${spanId}`;
}

/** The pure pass: the same recorded span, read by the schema's attribute reader and the classifier. */
function classifyRecorded(span: ReadableSpan) {
  const exception = [...span.events].reverse().find((e) => e.name === 'exception');
  return classify(
    classifierInputFromAttributes({
      name: span.name,
      // API SpanKind counts from INTERNAL = 0; the OTLP wire kind from UNSPECIFIED = 0.
      kind: spanKindName(span.kind + 1),
      scope: span.instrumentationScope.name,
      statusMessage: span.status.message ?? null,
      attributes: span.attributes,
      exception: exception?.attributes ?? null,
      resource: span.resource.attributes,
      isTool: span.name.startsWith('execute_tool') || span.attributes['gen_ai.operation.name'] === 'execute_tool',
    }),
  );
}

interface Outcome {
  sample: Sample;
  got: string;
  rule: string;
}

function report(label: string, outcomes: Outcome[]): string {
  const lines = [`${label}: ${outcomes.filter((o) => o.got === o.sample.expected).length}/${outcomes.length} right`];
  for (const category of CATEGORIES) {
    const inCategory = outcomes.filter((o) => getCatalogEntry(o.sample.expected)!.category === category);
    const right = inCategory.filter((o) => o.got === o.sample.expected).length;
    lines.push(`  ${category.padEnd(9)} ${String(right).padStart(3)}/${String(inCategory.length).padEnd(3)} ${inCategory.length ? ((100 * right) / inCategory.length).toFixed(1) : '-'}%`);
  }
  return lines.join('\n');
}

function wrong(outcomes: Outcome[]): string[] {
  return outcomes.filter((o) => o.got !== o.sample.expected).map((o) => `${o.sample.id}: expected ${o.sample.expected}, got ${o.got} (${o.rule})`);
}

const corpus = loadCorpus();

describe('the real-error corpus', () => {
  it('holds at least 300 samples with unique ids, each with a source', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(new Set(corpus.map((s) => s.id)).size).toBe(corpus.length);
    for (const s of corpus) expect(s.source.trim().length, s.id).toBeGreaterThan(8);
  });

  it('covers every catalog category, the neutral and the provider unknown codes, and every seed system', () => {
    const categories = new Set(corpus.map((s) => getCatalogEntry(s.expected)!.category));
    expect([...categories].sort()).toEqual([...CATEGORIES].sort());
    const expected = new Set(corpus.map((s) => s.expected));
    expect(expected.has('AGT-WORKER-UNKNOWN') && expected.has('AGT-PROVIDER-UNKNOWN')).toBe(true);
    const sources = corpus.map((s) => s.source).join('\n');
    // The five seed systems: Modal runtime (ai-systems), the CLI web app's idioms, t3code, stigmer/Temporal, openclaw.
    for (const seed of ['hhopkins95/ai-systems', 'exec timed out', 'pingdotgg/t3code', 'stigmer/stigmer', 'openclaw/openclaw']) {
      expect(sources.includes(seed) || corpus.some((s) => s.exception?.message.includes(seed)), seed).toBe(true);
    }
    // JS and Python renderings of the provider SDKs' errors.
    for (const system of ['anthropic', 'openai', 'gemini', 'bedrock']) {
      const languages = new Set(corpus.filter((s) => s.system === system).map((s) => s.language));
      expect(languages.has('js') && languages.has('python'), system).toBe(true);
    }
    expect(CATALOG.length).toBeGreaterThan(40);
  });
});

describe.each(STORAGES.slice(0, 1))('every corpus sample through the official OTel JS exporter to a collector on $name', (storage) => {
  let collector: RunningCollector;
  const byId = new Map<string, string>();
  const memory = new InMemorySpanExporter();
  let recorded: ReadableSpan[] = [];

  beforeAll(async () => {
    collector = await startTestCollector(storage);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'corpus-runtime' }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector.url}/v1/traces` }), { maxExportBatchSize: 512, scheduledDelayMillis: 50 }),
        new SimpleSpanProcessor(memory),
      ],
    });
    for (const s of corpus) byId.set(s.id, record(provider, s));
    await provider.forceFlush();
    recorded = memory.getFinishedSpans();
    await provider.shutdown();
  }, 60_000);
  afterAll(async () => {
    await collector?.close();
  });

  it('the collector stores every sample with its expected code and says which rule decided', async () => {
    const stored = new Map<string, ErrorOccurrence>();
    for (let attempt = 0; attempt < 100 && stored.size < corpus.length; attempt++) {
      let cursor: string | null = null;
      do {
        const res = await fetch(`${collector.url}/api/errors?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        const page = (await res.json()) as { items: ErrorOccurrence[]; nextCursor: string | null };
        for (const e of page.items) stored.set(e.id, e);
        cursor = page.nextCursor;
      } while (cursor);
      if (stored.size < corpus.length) await new Promise((r) => setTimeout(r, 100));
    }
    const outcomes = corpus.map((sample) => {
      const e = stored.get(byId.get(sample.id)!);
      return { sample, got: e?.code ?? '(not stored)', rule: e?.classification?.rule ?? '(none)' };
    });
    console.log(report('collector (OTLP/protobuf)', outcomes));
    expect(wrong(outcomes)).toEqual([]);
    for (const e of stored.values()) expect(e.classification?.rule, e.id).toBeTruthy();
  });

  it('the pure classifier gets every recorded sample right too', () => {
    const spans = new Map(recorded.map((s) => [`${s.spanContext().traceId}:${s.spanContext().spanId}`, s]));
    const outcomes = corpus.map((sample) => {
      const decided = classifyRecorded(spans.get(byId.get(sample.id)!)!);
      return { sample, got: decided.code, rule: decided.rule };
    });
    console.log(report('pure classifier', outcomes));
    expect(wrong(outcomes)).toEqual([]);
  });
});
