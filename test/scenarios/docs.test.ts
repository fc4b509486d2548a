import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '@faultline/schema';
import { DOCS_PATH, renderScenarioDocs } from './docs.ts';

describe('docs/scenarios.md', () => {
  it('is what `npm run docs:scenarios` generates from the scenario descriptions (not stale)', () => {
    const committed = fs.existsSync(DOCS_PATH) ? fs.readFileSync(DOCS_PATH, 'utf8') : '(missing)';
    // On failure: run `npm run docs:scenarios` and commit docs/scenarios.md.
    expect(committed).toBe(renderScenarioDocs());
  });

  it('documents every scenario with its code, the words users see and each variant', () => {
    const doc = renderScenarioDocs();
    for (const s of SCENARIOS) {
      expect(doc).toContain(`## ${s.number}. ${s.title}`);
      expect(doc).toContain(s.expectedMessage);
      for (const v of s.variants) expect(doc).toContain(`\`${v.id}\``);
    }
  });
});
