/**
 * Real child processes standing in for sandboxes, workers and CLIs: the scenarios kill, time out
 * and fail to spawn actual processes rather than pretending to.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A `/bin/sh -c` child: real processes that start in a millisecond, so thirteen scenarios at once
 * do not load the machine whose detection times they measure. `detached` puts it in its own
 * process group (so the group can be killed).
 */
export function spawnShell(script: string, options: SpawnOptions = {}): ChildProcess {
  return spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The exit status a shell (and Modal's poll()) reports: the code, or 128 + the signal number. */
export function exitStatus(exit: Exit): number {
  if (exit.code !== null) return exit.code;
  return 128 + (exit.signal ? (os.constants.signals[exit.signal] ?? 0) : 0);
}

/** Whether a process (or, with a negative pid, a process group) still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether any process of a group is still running. On Linux, zombies (killed, not yet reaped —
 * containers often have no init to reap them) do not count; elsewhere any member does.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform !== 'linux') return alive(-pgid);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid pgrp …; comm may contain spaces, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

export function killQuietly(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

export function collect(stream: NodeJS.ReadableStream | null | undefined): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => (text += chunk));
  return () => text;
}

/** A throwaway HTTP server on 127.0.0.1 (stub provider, stub dispatch endpoint). */
export async function stubServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
