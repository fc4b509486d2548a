/**
 * The contract stays a contract: no Drizzle, no Node-only module, no side effects, and its root
 * export (what the SDK loads) never pulls in zod — the zod shapes are under `@faultline/schema/api`.
 * Reads the built dist/ (`npm run build`, which `npm test` runs first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCHEMA = fileURLToPath(new URL('../../schema/', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(SCHEMA, 'package.json'), 'utf8'));
const sources = fs.readdirSync(path.join(SCHEMA, 'src'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('@faultline/schema is a pure contract', () => {
  it('depends on zod alone and declares no side effects', () => {
    expect(Object.keys(pkg.dependencies)).toEqual(['zod']);
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.exports)).toEqual(['.', './api', './operator-rules', './package.json']);
  });

  it.each(sources)('src/%s imports no Node module, no Drizzle, nothing of the other packages', (file) => {
    const imports = [...fs.readFileSync(path.join(SCHEMA, 'src', file), 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(imports.filter((spec) => !spec.startsWith('./') && spec !== 'zod')).toEqual([]);
  });

  it('the built root export loads no zod; the api export does', () => {
    const dist = path.join(SCHEMA, 'dist');
    expect(fs.existsSync(path.join(dist, 'index.js')), 'run `npm run build`').toBe(true);
    // The root entry and every chunk it imports.
    const seen = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of fs.readFileSync(path.join(dist, file), 'utf8').matchAll(/from\s*["'](\.\/[^"']+)["']/g)) walk(path.normalize(spec));
    };
    walk('index.js');
    const loaded = [...seen].map((f) => fs.readFileSync(path.join(dist, f), 'utf8')).join('\n');
    expect(loaded).not.toMatch(/from\s*["']zod["']/);
    expect(fs.readFileSync(path.join(dist, 'api.js'), 'utf8')).toMatch(/from\s*["']zod["']/);
  });
});
