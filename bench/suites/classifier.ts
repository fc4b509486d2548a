/**
 * The classifier's cost (issue 11): every error span pays for it at ingest. Measured side by side
 * in one run: the real corpus (schema/corpus, as the collector reads those spans), and hostile
 * inputs at the 8000-character cap built to make a backtracking regex explode (long runs of the
 * characters the patterns look for, near-misses repeated). A linear classifier costs the hostile
 * inputs a small multiple of the real ones; exponential backtracking would show as thousands.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classify, type ClassifierInput } from '@faultline/schema';
import { Report, atMost } from '../lib/report.ts';
import { round } from '../lib/stats.ts';

const CORPUS = fileURLToPath(new URL('../../schema/corpus/', import.meta.url));
const CAP = 8000;

interface CorpusSample {
  exception?: { name?: string; code?: string | number; type?: string; message: string };
  span: { name: string; kind: string; scope?: string; attributes?: Record<string, unknown> };
  statusMessage?: string | null;
}

function corpusInputs(): ClassifierInput[] {
  const inputs: ClassifierInput[] = [];
  for (const file of readdirSync(CORPUS).filter((f) => f.endsWith('.json'))) {
    for (const s of (JSON.parse(readFileSync(CORPUS + file, 'utf8')) as { samples: CorpusSample[] }).samples) {
      const e = s.exception;
      inputs.push({
        exceptionType: e ? (e.type ?? (e.code !== undefined ? String(e.code) : e.name)) : null,
        message: e?.message ?? s.statusMessage ?? null,
        spanName: s.span.name,
        spanKind: s.span.kind as ClassifierInput['spanKind'],
        scope: s.span.scope ?? null,
        attributes: s.span.attributes ?? {},
      });
    }
  }
  return inputs;
}

const fill = (unit: string) => unit.repeat(Math.ceil(CAP / unit.length)).slice(0, CAP);

/** Near-misses of the patterns' alternations and bounded runs, at the size cap. */
function hostileInputs(): ClassifierInput[] {
  return [
    'a',
    ' ',
    'activity StartToClos ',
    'rate limi ',
    'model ',
    'all models ',
    'image build for ',
    'requested permissions to ',
    'The model `',
    '{"type":"error","error":{"type":"',
    'timeout (type: ',
    'x'.repeat(99) + ' ',
  ].map((unit) => ({ exceptionType: 'Error', message: fill(unit), stderrTail: fill(unit), spanName: fill('chat ').slice(0, 200) }));
}

function timePerCall(inputs: ClassifierInput[], minMs: number): number {
  let calls = 0;
  const start = performance.now();
  do {
    for (const input of inputs) classify(input);
    calls += inputs.length;
  } while (performance.now() - start < minMs);
  return (performance.now() - start) / calls;
}

export async function runClassifier(report: Report, options: { quick: boolean }): Promise<void> {
  const corpus = corpusInputs();
  const hostile = hostileInputs();
  const minMs = options.quick ? 300 : 1500;
  timePerCall(corpus, 100); // warm up the JIT on both
  timePerCall(hostile, 100);
  // Interleaved rounds so load on a shared machine hits both alike.
  const corpusUs: number[] = [];
  const hostileUs: number[] = [];
  for (let round_ = 0; round_ < 3; round_++) {
    corpusUs.push(timePerCall(corpus, minMs / 3) * 1000);
    hostileUs.push(timePerCall(hostile, minMs / 3) * 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  const real = median(corpusUs);
  const worst = median(hostileUs);
  const ratio = round(worst / real, 1);
  report.add('classifier.corpusUs', `classify() per real error (${corpus.length} corpus samples)`, round(real, 2), 'µs');
  report.add('classifier.hostileUs', `classify() per hostile ${CAP}-char input (${hostile.length} shapes)`, round(worst, 2), 'µs');
  // Two 8 kB texts are ~50× a typical message; anything far past that would be backtracking.
  report.add('classifier.hostileRatio', 'hostile 8 kB input ÷ real error', ratio, '×', atMost(ratio, 200));
}
