/**
 * The repository stands on its own: every relative link in the docs leads to a file that is in it,
 * no tracked file reads or links a folder beside the clone, and every `npm run …` the README
 * names is a script of the root package.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const DOCS = ['README.md', 'sdk/README.md', ...tracked.filter((f) => f.startsWith('docs/') && f.endsWith('.md'))];
// Spelled in pieces so this file does not name it itself.
const BESIDE = ['..', 'shared'].join('/');

describe('a self-contained repository', () => {
  it.each(DOCS)('%s: every relative link resolves to a file of the repository', (doc) => {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((href) => !/^[a-z]+:/i.test(href));
    for (const href of links) {
      const target = path.normalize(path.join(path.dirname(doc), href));
      expect(target.startsWith('..'), `${doc} links outside the repository: ${href}`).toBe(false);
      expect(fs.existsSync(path.join(ROOT, target)), `${doc} → ${href}`).toBe(true);
    }
  });

  it(`no tracked file reads or links ${BESIDE}`, () => {
    const offenders = tracked.filter((f) => {
      const full = path.join(ROOT, f);
      if (!fs.existsSync(full) || fs.statSync(full).size > 2_000_000) return false;
      return fs.readFileSync(full, 'utf8').includes(BESIDE);
    });
    expect(offenders).toEqual([]);
  });

  it('every `npm run <script>` in the README is a script of the root package', () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
    const named = [...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });
});
