/**
 * docs/performance.md and docs/scaling.md tell users how to measure and size ingest: every
 * command, benchmark flag and collector variable they name must exist, with the default they state.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../collector/src/config.ts';

const read = (p: string) => fs.readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const DOCS = ['docs/performance.md', 'docs/scaling.md'];
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const benchSource = read('bench/run.ts');
// Variables the SDK or scripts read, not the collector.
const NOT_COLLECTOR = new Set(['FAULTLINE_ENDPOINT', 'FAULTLINE_INGEST_KEY', 'FAULTLINE_URL']);
// Node's own options that the docs name (profiling, heap settings tried as levers).
const NODE_FLAGS = new Set(['cpu-prof', 'max-semi-space-size']);

describe.each(DOCS)('%s', (doc) => {
  const text = read(doc);

  it('names only npm scripts that exist', () => {
    const scripts = [...text.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(pkg.scripts, `npm run ${s}`).toHaveProperty([s]);
  });

  it('names only benchmark suites and flags the runner accepts', () => {
    const accepted = new Set([...benchSource.matchAll(/flags\.(?:has|get)\('([a-z-]+)'\)/g)].map((m) => m[1]));
    const suites = new Set([...benchSource.matchAll(/'([a-z]+)'/g)].map((m) => m[1]));
    for (const [, args] of text.matchAll(/npm run bench -- ([^`\n]*)/g)) {
      for (const arg of args.split(/\s+/).filter(Boolean)) {
        if (arg.startsWith('--')) expect(accepted, arg).toContain(arg.slice(2).split('=')[0]);
        else if (/^[a-z]+$/.test(arg)) expect(suites, arg).toContain(arg);
      }
    }
    for (const [, flag] of text.matchAll(/`--([a-z-]+)[^`]*`/g)) {
      if (!NODE_FLAGS.has(flag)) expect(accepted, `--${flag}`).toContain(flag);
    }
  });

  it('names only collector variables the configuration accepts', () => {
    const names = [...new Set([...text.matchAll(/\bFAULTLINE_[A-Z_]+\b/g)].map((m) => m[0]))].filter((n) => !NOT_COLLECTOR.has(n));
    for (const name of names) {
      // A wrong name would be ignored silently by a user; the schema lists every accepted one.
      expect(read('collector/src/config.ts'), name).toContain(`${name}:`);
    }
  });
});

it('FAULTLINE_WRITERS defaults to the 2 the docs state, and rejects 0', () => {
  expect(read('docs/performance.md')).toContain('`FAULTLINE_WRITERS` (default 2)');
  expect(loadConfig({}).writers).toBe(2);
  expect(() => loadConfig({ FAULTLINE_WRITERS: '0' })).toThrow(/FAULTLINE_WRITERS: must be at least 1/);
});
