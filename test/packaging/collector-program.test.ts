/**
 * The collector as a program: the built `faultline` bin on plain Node (no TypeScript loader),
 * `--help`, `migrate`, and `serve` with the dashboard served from its build output — untouched by
 * the start — and a scenario run launched through the API with the built `faultline-scenarios`.
 * Needs `npm run build` (the root `prepare` and `pretest` run it).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioRunStatus, ScenarioWithLastRun } from '@faultline/schema';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'collector/dist/cli.js');
const DASHBOARD_INDEX = path.join(ROOT, 'dashboard/dist/index.html');
/** A clean environment: no tsx, no source condition, no database URL. */
const cleanEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
};

describe('the faultline program (collector/dist/cli.js)', () => {
  let dataDir: string;
  let server: ChildProcess | null = null;
  let output = '';
  let url = '';

  beforeAll(() => {
    if (!fs.existsSync(BIN) || !fs.existsSync(DASHBOARD_INDEX)) throw new Error('The collector or the dashboard is not built: run `npm run build`.');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-program-'));
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await new Promise((r) => server!.once('exit', r));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is plain JavaScript: the built package has no TypeScript to compile', () => {
    const files = fs.readdirSync(path.join(ROOT, 'collector/dist'), { recursive: true }) as string[];
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(fs.readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it('is on the PATH of npm scripts after install, with the SDK and scenario bins (prepare links them once built)', async () => {
    for (const bin of ['faultline', 'faultline-sdk', 'faultline-scenarios']) {
      const { stdout } = await run(path.join(ROOT, 'node_modules/.bin', bin), ['--help'], { env: cleanEnv({}) });
      expect(stdout, bin).toMatch(new RegExp(`^Usage: ${bin}`));
    }
  });

  it('--help names the commands and every configuration variable; an unknown command exits 2', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help'], { env: cleanEnv({}) });
    expect(stdout).toMatch(/^Usage: faultline <command>/);
    for (const word of ['serve', 'migrate', 'DATABASE_URL', 'FAULTLINE_DATA_DIR', 'FAULTLINE_API_TOKEN', 'PORT']) expect(stdout).toContain(word);
    const bad = await run(process.execPath, [BIN, 'srve'], { env: cleanEnv({}) }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('Unknown command "srve"') });
  });

  it('migrate prepares embedded storage and exits 0', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'migrate'], { env: cleanEnv({ FAULTLINE_DATA_DIR: dataDir }) });
    expect(stdout).toContain('Migrations applied to');
    expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);
  }, 60_000);

  it('serve answers OTLP, the API and the dashboard from its build output, which the start leaves untouched', async () => {
    const before = fs.statSync(DASHBOARD_INDEX).mtimeMs;
    const started = performance.now();
    server = spawn(process.execPath, [BIN, 'serve'], { env: cleanEnv({ FAULTLINE_DATA_DIR: dataDir, PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 60_000;
    while (!/listening on (http:\/\/\S+)/.test(output)) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`faultline serve did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = /listening on (http:\/\/\S+)/.exec(output)![1];
    console.log(`faultline serve ready in ${Math.round(performance.now() - started)} ms (embedded storage, migrated)`);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const otlp = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
    expect(otlp.status).toBe(200);
    const page = await fetch(`${url}/sessions`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<div id="app"');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(fs.readFileSync(DASHBOARD_INDEX, 'utf8'))![1];
    expect((await fetch(`${url}${asset}`)).status).toBe(200);
    expect((await (await fetch(`${url}/api/sessions`)).json()).items).toEqual([]);
    expect(fs.statSync(DASHBOARD_INDEX).mtimeMs).toBe(before);
  }, 90_000);

  it('runs a scenario from the API with the built faultline-scenarios program', async () => {
    const started = await fetch(`${url}/api/scenarios/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"sandbox-config-missing"}' });
    expect(started.status).toBe(202);
    let status: ScenarioRunStatus;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise((r) => setTimeout(r, 300));
      status = (await (await fetch(`${url}/api/scenarios/run`)).json()) as ScenarioRunStatus;
    } while (status.running && Date.now() < deadline);
    expect(status.exitCode, status.outputTail).toBe(0);
    expect(status.outputTail).toContain('1 of 1 scenarios passed');
    const listed = (await (await fetch(`${url}/api/scenarios`)).json()) as ScenarioWithLastRun[];
    expect(listed.find((s) => s.id === 'sandbox-config-missing')?.lastRun?.passed).toBe(true);
  }, 90_000);

  it('names a taken port in one clear message, with the usual holder and how to move, and exits 1 without a stack', async () => {
    // Really occupy a port, as a local OpenTelemetry Collector holding 4318/4317 would.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const cases = [
        { env: { PORT: String(taken), FAULTLINE_GRPC_PORT: 'off' }, variable: 'PORT', fix: 'PORT=4320 npm start' },
        { env: { PORT: '0', FAULTLINE_GRPC_PORT: String(taken) }, variable: 'FAULTLINE_GRPC_PORT', fix: 'FAULTLINE_GRPC_PORT=off' },
      ];
      for (const c of cases) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-port-'));
        const failed = await run(process.execPath, [BIN, 'serve'], { env: cleanEnv({ FAULTLINE_DATA_DIR: dir, ...c.env }), timeout: 60_000 }).catch(
          (e: { code: number; stdout: string; stderr: string }) => e,
        );
        fs.rmSync(dir, { recursive: true, force: true });
        expect(failed, c.variable).toMatchObject({ code: 1 });
        const { stdout, stderr } = failed as { stdout: string; stderr: string };
        expect(stdout).not.toContain('listening on');
        expect(stderr.trim().split('\n'), stderr).toHaveLength(1);
        expect(stderr).toContain(`Port ${taken} is already in use (${c.variable}, 127.0.0.1:${taken})`);
        expect(stderr).toContain('often held by a local OpenTelemetry Collector');
        expect(stderr).toContain(c.fix);
        expect(stderr).not.toMatch(/\n\s+at |EADDRINUSE|Error:/);
      }
    } finally {
      await new Promise((r) => holder.close(r));
    }
  }, 120_000);

  it('stops on SIGTERM after closing its storage', async () => {
    const exited = new Promise<number | null>((r) => server!.once('exit', (code) => r(code)));
    server!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM received');
  }, 30_000);
});
