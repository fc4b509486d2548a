/**
 * `npm run screenshots` keeps working: at a small size (the script's default is 50,000 sessions),
 * every view renders its data in Chromium without a script error or sideways scrolling at 1280 px,
 * and each leaves a PNG of its first screen.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_BROWSER_TESTS } from './chromium.ts';
import { takeScreenshots } from './screenshots.ts';

describe.skipIf(!RUN_BROWSER_TESTS)('npm run screenshots', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'faultline-shots-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('takes every view, each showing its data, with no script error and nothing wider than 1280 px', async () => {
    const lines: string[] = [];
    // First screens only here; the script also saves each whole page.
    const { shots, pageErrors } = await takeScreenshots({ sessions: 300, outDir, databaseUrl: null, fullPage: false, log: (line) => lines.push(line) });
    expect(shots.map((s) => s.name)).toEqual([
      'overview', 'sessions', 'session-failed', 'session-retried', 'session-stuck', 'session-otel',
      'errors', 'code', 'codes', 'timeouts', 'scenarios', 'alerts', 'deliveries',
    ]);
    expect(pageErrors).toEqual([]);
    for (const shot of shots) {
      expect(shot.overflowPx, `${shot.name} scrolls sideways`).toBeLessThanOrEqual(0);
      expect(statSync(shot.path).size, shot.name).toBeGreaterThan(10_000);
    }
    expect(lines.join('\n')).toContain('seeded 300 sessions of history');
  }, 180_000);
});
