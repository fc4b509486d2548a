import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getCatalogEntry, renderUserMessage, STUCK_CODE } from './catalog.ts';
import { getScenario, SCENARIOS } from './scenarios.ts';
import { SESSION_STATES } from './states.ts';

const TAXONOMY = readFileSync(new URL('../../docs/failure-taxonomy.md', import.meta.url), 'utf8');

/** failure-taxonomy §5: "N. **Title** (seed)" and the first `AGT-…` code on its "Expected code" line. */
function taxonomyScenarios(): { number: number; seed: string; code: string }[] {
  const section = TAXONOMY.slice(TAXONOMY.indexOf('## 5.'), TAXONOMY.indexOf('## 6.'));
  const out: { number: number; seed: string; code: string }[] = [];
  for (const block of section.split(/\n(?=\d+\. \*\*)/).slice(1)) {
    const head = /^(\d+)\. \*\*.+?\*\* \((\d{3})/.exec(block);
    const code = /Expected codes?:[^`]*`(AGT-[A-Z-]+)`/.exec(block);
    if (head && code) out.push({ number: Number(head[1]), seed: head[2], code: code[1] });
  }
  return out;
}

describe('documented scenarios', () => {
  it('cover the twelve of failure-taxonomy §5 with the same seed and first expected code, plus the stuck watchdog', () => {
    const documented = taxonomyScenarios();
    expect(documented).toHaveLength(12);
    for (const t of documented) {
      const s = SCENARIOS.find((x) => x.number === t.number);
      expect(s, `scenario ${t.number}`).toBeDefined();
      expect({ number: s!.number, seed: s!.seed, code: s!.expectedCode }).toEqual(t);
    }
    expect(SCENARIOS.map((s) => s.number)).toEqual([...Array(13).keys()].map((i) => i + 1));
    expect(SCENARIOS[12]).toMatchObject({ expectedCode: STUCK_CODE, expectedState: 'running', expectFailed: false });
  });

  it('have unique ids and variant ids, and are found by id', () => {
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) {
      expect(s.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(getScenario(s.id)).toBe(s);
      expect(new Set(s.variants.map((v) => v.id)).size).toBe(s.variants.length);
    }
    expect(getScenario('no-such-scenario')).toBeUndefined();
  });

  it('expect catalog codes, real states and the catalog’s own rendered words', () => {
    for (const s of SCENARIOS) {
      expect(getCatalogEntry(s.expectedCode), s.id).toBeDefined();
      expect(SESSION_STATES).toContain(s.expectedState);
      expect(s.expectedMessage).toBe(renderUserMessage(s.expectedCode, { provider: s.provider, model: s.model }));
      expect(s.expectedMessage).not.toMatch(/[{}]/);
      for (const v of s.variants) {
        expect(SESSION_STATES).toContain(v.expectedState);
        if (v.expectedCode === null) expect(v.expectedMessage).toBeNull();
        else expect(v.expectedMessage).toBe(renderUserMessage(v.expectedCode, { provider: s.provider, model: s.model }));
      }
    }
    // The billing copy names the provider and model, as seed 004's fix requires.
    expect(getScenario('provider-billing')!.expectedMessage).toContain('Anthropic');
    expect(getScenario('provider-billing')!.expectedMessage).toContain('claude-sonnet-4-5');
  });

  it('detect faster in a run than in production wherever production waits on a long limit', () => {
    for (const s of SCENARIOS) {
      expect(s.timeToDetectMs).toBe(s.timeToDetect.testMs);
      if (s.timeToDetect.productionMs >= 30_000) expect(s.timeToDetectMs, s.id).toBeLessThan(s.timeToDetect.productionMs / 2);
    }
  });

  it('count a failed session only where the session ends in error', () => {
    for (const s of SCENARIOS) expect(s.expectFailed, s.id).toBe(s.expectedState === 'error');
  });
});
