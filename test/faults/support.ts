/**
 * Shared by the fault suite (test/faults) and the reliability tests (test/reliability): the
 * collector as a real child process (`npm start`'s entry, without the dashboard build), free
 * loopback ports, OTLP/JSON bodies with known ids, and a place to print measured figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = path.join(ROOT, 'collector/src/main.ts');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `faultline-${prefix}-`));
}

/** A port nothing listens on right now (the kernel picks it; we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CollectorProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node --conditions=@faultline/source --import tsx collector/src/main.ts` with the given environment (DATABASE_URL is
 * cleared unless given, so the embedded store is used) and waits for /healthz.
 */
export async function startCollectorProcess(env: Record<string, string>, options: { port?: number; readyTimeoutMs?: number } = {}): Promise<CollectorProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ['--conditions=@faultline/source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    // gRPC on any free port: concurrent runs and restarted collectors must not fight over 4317.
    env: { ...process.env, DATABASE_URL: '', HOST: '127.0.0.1', PORT: String(port), FAULTLINE_GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: CollectorProcess = {
    child,
    pid: child.pid!,
    url,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (gone) throw new Error(`collector exited before it was ready:\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return proc;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`collector did not answer /healthz within the time limit:\n${out}`);
}

/** Resident set size of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export interface SpanSpec {
  traceId?: string;
  spanId?: string;
  name?: string;
  sessionId?: string;
  attributes?: Record<string, string | number | boolean>;
  /** ms since epoch; default now */
  atMs?: number;
  durationMs?: number;
  error?: { message: string; type?: string };
  statusMessage?: string;
}

function attr(key: string, value: string | number | boolean) {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}

/** One OTLP/JSON span (ids are hex strings, as OTLP/JSON wants). */
export function otlpSpan(s: SpanSpec) {
  const start = BigInt(Math.round((s.atMs ?? Date.now()) * 1000)) * 1000n;
  const end = start + BigInt(Math.round((s.durationMs ?? 0) * 1e6));
  const attrs: Record<string, string | number | boolean> = { ...(s.sessionId ? { 'session.id': s.sessionId } : {}), ...s.attributes };
  return {
    traceId: s.traceId ?? hex(16),
    spanId: s.spanId ?? hex(8),
    name: s.name ?? 'work',
    kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(end),
    attributes: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    events: s.error
      ? [{ name: 'exception', timeUnixNano: String(end), attributes: [attr('exception.type', s.error.type ?? 'Error'), attr('exception.message', s.error.message)] }]
      : [],
    status: s.error ? { code: 2, message: s.statusMessage ?? s.error.message } : s.statusMessage ? { code: 0, message: s.statusMessage } : {},
  };
}

export function otlpBody(spans: ReturnType<typeof otlpSpan>[], service = 'reliability-test', resource: Record<string, string> = {}): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: Object.entries({ 'service.name': service, ...resource }).map(([k, v]) => attr(k, v)) },
        scopeSpans: [{ scope: { name: 'faultline.reliability' }, spans }],
      },
    ],
  });
}

/** POST an OTLP/JSON body; never throws (a network failure is status 0). */
export async function postTraces(url: string, body: string | Uint8Array, headers: Record<string, string> = {}, timeoutMs = 15_000) {
  const started = performance.now();
  try {
    const r = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body as BodyInit,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    return { status: r.status, retryAfter: r.headers.get('retry-after'), text, ms: performance.now() - started, error: null as string | null };
  } catch (err) {
    return { status: 0, retryAfter: null, text: '', ms: performance.now() - started, error: (err as Error).message };
  }
}

/**
 * A fresh, empty database on the DATABASE_URL server for a collector child to migrate. Its name
 * follows the test fixture's pattern (faultline_t_<pid>_…), so global-setup removes leftovers.
 */
export async function freshPostgresDatabase(baseUrl: string, label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `faultline_t_${process.pid}_${label}_${Date.now().toString(36)}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await a.end();
    },
  };
}

/** Measured numbers, printed so a run's log carries them (docs/reliability.md quotes them). */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  console.log(`[figures] ${test}: ${JSON.stringify(figures)}`);
}
