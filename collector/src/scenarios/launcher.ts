/**
 * Starts the scenario runner (the `faultline-scenarios` program of @faultline/scenarios) as a
 * child process pointed at this collector, one run at a time, and keeps its status and the tail
 * of its output. Why a child process and not an import: see api/scenarios.ts. The collector does
 * not depend on the runner; it finds it where it is installed, and answers 503 when a deployment
 * does not ship it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Context } from 'hono';
import type { ScenarioRunStatus } from '@faultline/schema';
import { FaultlineError } from '../errors.ts';

/**
 * The runner's entry point as this process resolves `@faultline/scenarios/cli`: its built
 * JavaScript, or its TypeScript source where this collector itself runs from source (tests).
 */
export function findRunner(): string {
  try {
    return createRequire(import.meta.url).resolve('@faultline/scenarios/cli');
  } catch {
    return '@faultline/scenarios (not installed)';
  }
}

/** Node arguments that run the entry: plain Node for JavaScript, tsx and the source condition for a .ts file. */
export function runnerArgs(entry: string): string[] {
  return entry.endsWith('.ts') ? ['--conditions=@faultline/source', '--import', 'tsx', entry] : [entry];
}

/** Enough of the runner's output to show its table and its last error. */
const OUTPUT_TAIL_CHARS = 8000;

/**
 * This collector's own base URL as the runner should reach it: the address and port the request
 * arrived on (right even with PORT=0), not the Host header a proxy may have rewritten.
 */
export function selfUrl(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const socket = incoming?.socket;
  if (socket?.localAddress && socket.localPort) {
    const address = socket.localAddress.replace(/^::ffff:/, '');
    return `http://${address.includes(':') ? `[${address}]` : address}:${socket.localPort}`;
  }
  return new URL(c.req.url).origin;
}

export interface LaunchOptions {
  url: string;
  ids: string[];
  apiToken: string | null;
  ingestKey: string | null;
  onExit?: (exitCode: number | null) => void;
}

export class ScenarioLauncher {
  private child: ChildProcess | null = null;
  private current: ScenarioRunStatus = { running: false, ids: [], startedAt: null, finishedAt: null, exitCode: null, outputTail: '' };

  constructor(private readonly entry: string = findRunner()) {}

  get running(): boolean {
    return this.child !== null;
  }

  status(): ScenarioRunStatus {
    return { ...this.current };
  }

  start(options: LaunchOptions): ScenarioRunStatus {
    if (!fs.existsSync(this.entry)) {
      throw new FaultlineError(
        'scenarios_unavailable',
        503,
        `This collector cannot run scenarios: the runner (${this.entry}) is not part of this deployment. Install @faultline/scenarios beside it, or run \`npm run scenarios\` from a checkout with FAULTLINE_URL pointing here.`,
      );
    }
    const env: NodeJS.ProcessEnv = { ...process.env, FAULTLINE_URL: options.url };
    // The runner is this collector's guest: it gets the credentials the collector demands.
    if (options.apiToken) env.FAULTLINE_API_TOKEN = options.apiToken;
    if (options.ingestKey) env.FAULTLINE_INGEST_KEY = options.ingestKey;
    const child = spawn(process.execPath, [...runnerArgs(this.entry), ...options.ids], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.current = { running: true, ids: options.ids, startedAt: new Date().toISOString(), finishedAt: null, exitCode: null, outputTail: '' };
    const append = (chunk: Buffer) => {
      this.current.outputTail = (this.current.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const finish = (exitCode: number | null) => {
      if (this.child !== child) return;
      this.child = null;
      this.current = { ...this.current, running: false, finishedAt: new Date().toISOString(), exitCode };
      process.off('exit', killChild);
      options.onExit?.(exitCode);
    };
    child.once('error', (err) => {
      append(Buffer.from(`Could not start the scenario runner: ${err.message}\n`));
      finish(null);
    });
    child.once('exit', (code) => finish(code));
    // A collector that exits must not leave a runner playing against nothing.
    const killChild = () => child.kill('SIGKILL');
    process.once('exit', killChild);
    return this.status();
  }
}
