/**
 * End-to-end support: a real collector whose HTTP side can be stopped and restarted on the same
 * port over the same store (the SDK's endpoint is fixed at init), child runtimes, API reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Session, SessionDetail } from '@faultline/schema';
import { testConfig, type Config } from '../../collector/src/config.ts';
import { startCollector, type RunningCollector } from '../../collector/src/server.ts';
import type { StorageKind } from '../../collector/src/testing.ts';
import type { Store } from '../../collector/src/store/db.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `faultline-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A collector that can go down and come back on the same port and database, like a redeploy.
 * `stop()` closes the HTTP side, drains the ingest queue and stops the watchdog; the store stays
 * open until `close()`.
 */
export class RestartableCollector {
  private running: RunningCollector | null = null;
  port = 0;

  private constructor(
    readonly store: Store,
    private readonly overrides: Partial<Config>,
  ) {}

  static async start(storage: StorageKind, overrides: Partial<Config> = {}): Promise<RestartableCollector> {
    const collector = new RestartableCollector(await storage.create(), overrides);
    await collector.restart();
    return collector;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get up(): boolean {
    return this.running !== null;
  }

  async restart(): Promise<void> {
    if (this.running) return;
    // startCollector closes the store it was given on close(); this one outlives the HTTP side.
    const keepOpen: Store = { ...this.store, close: async () => {} };
    this.running = await startCollector(testConfig({ host: '127.0.0.1', ...this.overrides, port: this.port }), { store: keepOpen });
    this.port = this.running.port;
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    await running?.close();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.store.close();
  }

  session(id: string): Promise<SessionDetail> {
    return getJson<SessionDetail>(`${this.url}/api/sessions/${encodeURIComponent(id)}`);
  }

  async sessions(query: string): Promise<Session[]> {
    return (await getJson<{ items: Session[] }>(`${this.url}/api/sessions?${query}`)).items;
  }

  /** (trace id, span id) → how many rows the spans table holds for it, for one service. */
  async storedSpans(service: string): Promise<Map<string, number>> {
    const rows = await this.store.query<{ trace_id: string; span_id: string; n: number | string }>(
      'select trace_id, span_id, count(*) as n from spans where service = $1 group by trace_id, span_id',
      [service],
    );
    return new Map(rows.map((r) => [`${r.trace_id}:${r.span_id}`, Number(r.n)]));
  }
}

export interface ChildRuntime {
  child: ChildProcess;
  /** Lines the child printed so far. */
  lines: string[];
  /** What the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first printed line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript file with tsx in a child process (its own TMPDIR, so its spool is its own). */
export function runTs(file: string, env: Record<string, string>): ChildRuntime {
  const child = spawn(process.execPath, ['--conditions=@faultline/source', '--import', 'tsx', file], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    line(pattern, timeoutMs = 30_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child printed no line matching ${pattern} in ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${code ?? signal}) before printing ${pattern}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        });
      });
    },
  };
}

/**
 * Runs the SDK's `faultline-sdk` command: from its source through tsx and the workspace sources
 * (a change needs no rebuild), or with `built`, the file package.json's `bin` names, with plain
 * node, as an installed package runs it.
 */
export async function runSdkBin(
  args: string[],
  env: Record<string, string>,
  options: { built?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const sdkDir = join(REPO_ROOT, 'sdk');
  const manifest = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const node = options.built
    ? [join(sdkDir, manifest.bin['faultline-sdk'])]
    : ['--conditions=@faultline/source', '--import', 'tsx', join(sdkDir, 'src/cli.ts')];
  const child = spawn(process.execPath, [...node, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': all output has been read by then.
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}
