/**
 * The SDK as a user gets it: `npm pack` of @faultline/sdk and @faultline/schema (which builds
 * them, prepack), the tarballs installed into a new app outside the repository, and that app run
 * three ways — plain ESM, CommonJS `require`, a `tsc --strict` TypeScript app — each failing a
 * session with Anthropic's billing error against a live collector. The collector's API must show
 * each session with the code the SDK gave it. Nothing of the monorepo is installed but the two
 * tarballs (the rest comes from the npm registry, or its cache).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const TYPES_NODE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).devDependencies['@types/node'] as string;

/** The same program in each module system: a session that hits Anthropic's "credit balance is too low" 400. */
const body = (sessionId: string) => `
class BadRequestError extends Error {
  name = 'BadRequestError';
  status = 400;
  error = { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' } };
}
const faultline = init({ serviceName: 'packed-app', endpoint: process.env.FAULTLINE_URL, spoolDir: process.env.SPOOL_DIR });
const session = faultline.startSession({ id: '${sessionId}', agent: 'support', provider: 'anthropic', model: 'claude-sonnet-4-5' });
session.status('running', 'Working on your request');
const clientError = session.fail(new BadRequestError('400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}'));
await faultline.shutdown();
console.log(JSON.stringify({ code: clientError.code, retryable: clientError.retryable, stats: faultline.stats() }));
`;

/** Every installed copy of a package under a node_modules tree. */
function copiesOf(name: string, nodeModules: string): string[] {
  const found: string[] = [];
  const here = path.join(nodeModules, name);
  if (fs.existsSync(path.join(here, 'package.json'))) found.push(here);
  for (const entry of fs.existsSync(nodeModules) ? fs.readdirSync(nodeModules) : []) {
    const dirs = entry.startsWith('@') ? fs.readdirSync(path.join(nodeModules, entry)).map((e) => path.join(entry, e)) : [entry];
    for (const dir of dirs) found.push(...copiesOf(name, path.join(nodeModules, dir, 'node_modules')));
  }
  return found;
}

describe.skipIf(STORAGES.length === 0)('the packed SDK in an app outside the repository', () => {
  let collector: RunningCollector;
  let app: string;
  let tarballs: string[];
  const env = () => ({ ...process.env, FAULTLINE_URL: collector.url, SPOOL_DIR: path.join(app, 'spool'), NODE_OPTIONS: '' });

  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0]);
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-packed-app-'));
    await run('npm', ['pack', '--pack-destination', app, '-w', '@faultline/schema', '-w', '@faultline/sdk'], { cwd: ROOT, maxBuffer: 16 << 20 });
    tarballs = fs.readdirSync(app).filter((f) => f.endsWith('.tgz')).map((f) => path.join(app, f));
    expect(tarballs.map((t) => path.basename(t)).sort()).toEqual(['faultline-schema-0.1.0.tgz', 'faultline-sdk-0.1.0.tgz']);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'packed-app', version: '1.0.0', private: true }, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs, `@types/node@${TYPES_NODE}`], { cwd: app, maxBuffer: 16 << 20 });
  }, 300_000);

  afterAll(async () => {
    await collector?.close();
    if (app) fs.rmSync(app, { recursive: true, force: true });
  });

  async function expectBillingSession(sessionId: string, stdout: string) {
    const printed = JSON.parse(stdout.trim().split('\n').pop()!) as { code: string; stats: { exportFailures?: number } };
    expect(printed.code).toBe('AGT-PROVIDER-BILLING');
    const res = await fetch(`${collector.url}/api/sessions/${sessionId}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as SessionDetail;
    expect(detail.session.state).toBe('error');
    expect(detail.session.lastError?.code).toBe('AGT-PROVIDER-BILLING');
    expect(detail.session.lastError?.message).toMatch(/anthropic/i);
    expect(detail.session.service).toBe('packed-app');
  }

  it('installs only what the SDK imports: no Drizzle, Hono or PGlite, and one @opentelemetry/api (a peer)', () => {
    const installed = (dir: string) => fs.existsSync(path.join(app, 'node_modules', dir));
    expect(installed('@faultline/sdk') && installed('@faultline/schema')).toBe(true);
    for (const heavy of ['drizzle-orm', 'hono', '@electric-sql/pglite', 'postgres', '@opentelemetry/sdk-node']) expect(installed(heavy), heavy).toBe(false);
    expect(copiesOf('@opentelemetry/api', path.join(app, 'node_modules'))).toEqual([path.join(app, 'node_modules/@opentelemetry/api')]);
    const sdkPkg = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/@faultline/sdk/package.json'), 'utf8'));
    expect(sdkPkg.peerDependencies['@opentelemetry/api']).toBeDefined();
    expect(sdkPkg.dependencies['@opentelemetry/api']).toBeUndefined();
    expect(fs.readdirSync(path.join(app, 'node_modules/@faultline/sdk'))).not.toContain('src');
  });

  it('plain ESM: node app.mjs', async () => {
    fs.writeFileSync(path.join(app, 'app.mjs'), `import { init } from '@faultline/sdk';\n${body('packed-esm')}`);
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: app, env: env() });
    await expectBillingSession('packed-esm', stdout);
  }, 60_000);

  it('CommonJS: require("@faultline/sdk")', async () => {
    fs.writeFileSync(path.join(app, 'app.cjs'), `const { init } = require('@faultline/sdk');\n(async () => {\n${body('packed-cjs')}\n})();\n`);
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: app, env: env() });
    await expectBillingSession('packed-cjs', stdout);
  }, 60_000);

  it('TypeScript: tsc --strict compiles against the shipped types, then node runs it', async () => {
    const ts = path.join(app, 'ts');
    fs.mkdirSync(ts);
    fs.writeFileSync(path.join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
    fs.writeFileSync(
      path.join(ts, 'app.ts'),
      `import { init, type ClientError, type FaultlineOptions } from '@faultline/sdk';
const options: FaultlineOptions = { serviceName: 'packed-app' };
void options;
${body('packed-ts').replace('const clientError =', 'const clientError: ClientError =').replace("name = 'BadRequestError';", "override name = 'BadRequestError';")}
// A wrong field is a compile error, so the types are real, not any.
// @ts-expect-error nope is not a ClientError field
void clientError.nope;
`,
    );
    await run(process.execPath, [TSC, '--strict', '--noImplicitOverride', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--outDir', 'out', 'app.ts'], { cwd: ts, env: { ...env(), NODE_PATH: '' } }).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`tsc --strict failed:\n${err.stdout ?? err.message}`);
    });
    fs.writeFileSync(path.join(ts, 'out', 'package.json'), JSON.stringify({ type: 'module' }));
    const { stdout } = await run(process.execPath, ['out/app.js'], { cwd: ts, env: env() });
    await expectBillingSession('packed-ts', stdout);
  }, 120_000);
});
