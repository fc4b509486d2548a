/**
 * Dashboard bundle (DESIGN §8): build the SPA with its own Vite config into a temporary directory
 * (not dashboard/dist, which a running collector or test may be serving), then gzip every JS file
 * the build emits, as a browser would download them.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Report, atMost } from '../lib/report.ts';
import { round } from '../lib/stats.ts';

const DASHBOARD = fileURLToPath(new URL('../../dashboard', import.meta.url));

/** The dashboard's own Vite (a workspace may install it beside the dashboard rather than at the root). */
function viteBin(): string {
  return path.join(path.dirname(createRequire(path.join(DASHBOARD, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export async function runBundle(report: Report): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-dist-'));
  try {
    execFileSync(process.execPath, [viteBin(), 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: DASHBOARD,
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 300_000,
    });
    const js = files(out).filter((f) => f.endsWith('.js'));
    const raw = js.reduce((a, f) => a + fs.statSync(f).size, 0);
    const gz = js.reduce((a, f) => a + zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length, 0);
    const css = files(out).filter((f) => f.endsWith('.css')).reduce((a, f) => a + zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length, 0);
    report.add('bundle.jsFiles', 'dashboard JS files', js.length);
    report.add('bundle.jsKB', 'dashboard JS, minified', round(raw / 1000, 1), 'kB');
    report.add('bundle.jsGzipKB', 'dashboard JS, gzip', round(gz / 1000, 1), 'kB', atMost(round(gz / 1000, 1), 150));
    report.add('bundle.cssGzipKB', 'dashboard CSS, gzip', round(css / 1000, 1), 'kB');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}
