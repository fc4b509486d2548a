/**
 * Secret scrubbing cost per KB from 1 KB to 1 MB (issue 18): linear means flat. Two inputs side
 * by side at each size: ordinary error text (a provider message and a stack trace, repeated) and
 * an adversarial mix of the patterns that made the old scrubber quadratic (long runs of `.`,
 * `-`, name words, near-miss URLs and keys). Best of several runs per size; the figure to read
 * is the ratio of µs/KB at 1 MB to µs/KB at 1 KB (1.0 = perfectly linear).
 */
import { scrubSecrets } from '../../schema/src/scrub.ts';
import { Report, atMost } from '../lib/report.ts';
import { round } from '../lib/stats.ts';

const ORDINARY =
  'Error: 429 Rate limit reached for gpt-4.1-mini on tokens per min (TPM): Limit 30000, Used 29000, Requested 1532.\n' +
  '    at OpenAI.makeRequest (/app/node_modules/openai/core.js:312:19)\n    at async Agent.turn (/app/src/agent.ts:88:5)\n';
// A short period, so that 1 KB holds the same mix as 1 MB.
const ADVERSARIAL = ['.'.repeat(24), '-'.repeat(24), 'x_token: ', 'a://b:', 'password=', 'keykey=', 'sk-a', '"secret": "', 'Bearer ', 'ghp_', 'eyJa.'].join('');

const SIZES = [1024, 16 * 1024, 256 * 1024, 1024 * 1024];

function usPerKb(text: string, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    scrubSecrets(text);
    best = Math.min(best, performance.now() - t);
  }
  return (best * 1000) / (text.length / 1024);
}

export async function runScrub(report: Report, options: { quick: boolean }): Promise<void> {
  for (const [name, unit] of [['ordinary', ORDINARY], ['adversarial', ADVERSARIAL]] as const) {
    const perKb: number[] = [];
    for (const size of SIZES) {
      const text = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
      // Small inputs are timed over more runs: a 1 KB scrub takes microseconds.
      for (let i = 0; i < 20; i++) scrubSecrets(text.slice(0, 1024));
      const runs = Math.max(options.quick ? 3 : 7, Math.round((options.quick ? 64 : 256) * 1024 / size));
      const v = usPerKb(text, runs);
      perKb.push(v);
      report.add(`scrub.${name}.usPerKb.${size / 1024}KB`, `scrub ${name} text, ${size / 1024} KB`, round(v, 2), 'µs/KB');
    }
    const ratio = perKb[perKb.length - 1] / perKb[0];
    report.add(`scrub.${name}.flatnessRatio`, `scrub ${name}: µs/KB at 1 MB ÷ at 1 KB (1 = linear)`, round(ratio, 2), '×', atMost(ratio, 2));
  }
}
