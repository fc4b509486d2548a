import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openPglite } from './db.ts';
import { lockDataDir } from './lock.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function runCollector(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=@faultline/source', '--import', 'tsx', MAIN], { env: { ...process.env, DATABASE_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('embedded data directory lock', () => {
  it('refuses a second collector process on the same directory with a clear message, and the data stays usable', async () => {
    const dir = tempDir();
    const store = await openPglite(dir);
    await store.migrate();
    await store.query(`insert into error_groups (fingerprint, code, category, sample_message, first_seen, last_seen, count) values ('fp-1', 'AGT-PROVIDER-BILLING', 'provider', 'x', now(), now(), 3)`);
    try {
      const second = await runCollector({ FAULTLINE_DATA_DIR: dir, PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.output).toMatch(/in use by another Faultline collector \(pid \d+\)/);
      expect(second.output).toContain('FAULTLINE_DATA_DIR');
    } finally {
      await store.close();
    }
    // Released on close: a new opener sees the data intact.
    const again = await openPglite(dir);
    const rows = await again.query<{ count: number }>(`select count from error_groups where fingerprint = 'fp-1'`);
    expect(rows[0].count).toBe(3);
    await again.close();
  });

  it('takes over a lock left behind by a process that died', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'faultline.lock'), '999999999\n');
    const lock = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, 'faultline.lock'), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    expect(fs.existsSync(path.join(dir, 'faultline.lock'))).toBe(false);
  });

  it('refuses a second opener inside the same process', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(/already open in this process/);
    lock.release();
  });
});
