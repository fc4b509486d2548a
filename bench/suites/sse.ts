/**
 * Live viewers and ingest (issue 19, "SSE that scales"): the same OTLP traffic into a fresh
 * collector process with no live viewer, with 100, and with 1,000 viewers reading /api/stream
 * (in a process of their own), back to back in each round so all see the same machine load.
 * Reported: ingest with 100 viewers ÷ ingest with none (target ≥ 0.8) and the same for 1,000,
 * medians of the rounds' ratios; plus whether every viewer stayed connected and what one received.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBenchDatabase } from '../lib/env.ts';
import { Report, atLeast } from '../lib/report.ts';
import { median, round } from '../lib/stats.ts';
import { makeBatches } from '../lib/traffic.ts';
import { httpRun, type IngestOptions } from './ingest.ts';

const VIEWERS_CHILD = fileURLToPath(new URL('../sse-viewers.ts', import.meta.url));

export interface SseOptions {
  storages: ('postgres' | 'pglite')[];
  spans: { postgres: number; pglite: number };
  rounds: number;
  viewerCounts: number[];
}

interface ViewerStats {
  events: Record<string, number>;
  bytes: number;
  ended: number;
  hellos: number;
}

/** Opens `n` viewers on `url` in a child process; resolves once all said hello. */
async function openViewers(url: string, n: number): Promise<{ stop: () => Promise<ViewerStats> }> {
  const child: ChildProcess = fork(VIEWERS_CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SSE_URL: url, SSE_VIEWERS: String(n) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${n} viewers did not connect within 60 s`)), 60_000);
    child.on('message', (m: { ready?: boolean; error?: string }) => {
      if (m.error) reject(new Error(m.error));
      if (m.ready) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`viewer process exited with ${code}`)));
  });
  const ask = <T>(cmd: string, key: string) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off('message', on);
          resolve(m[key] as T);
        }
      };
      child.on('message', on);
      child.send({ cmd });
    });
  return {
    async stop() {
      // Let the last coalescing window reach the viewers.
      await new Promise((r) => setTimeout(r, 1000));
      const stats = await ask<ViewerStats>('stats', 'stats');
      await Promise.race([ask('close', 'closed'), new Promise((r) => setTimeout(r, 10_000))]);
      child.kill('SIGKILL');
      return stats;
    },
  };
}

export async function runSse(report: Report, o: SseOptions): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-sse-'));
  try {
    for (const storage of o.storages) {
      const spansPerBatch = 1000;
      const batchCount = Math.ceil(o.spans[storage] / spansPerBatch);
      const ingest: IngestOptions = {
        storages: [storage],
        clients: 8,
        spansPerBatch,
        spans: o.spans,
        rounds: o.rounds,
        maxSeconds: 90,
        profile: false,
        twoCollectors: false,
      };
      const ratios = new Map<number, number[]>(o.viewerCounts.map((n) => [n, []]));
      const rates = new Map<number, number[]>([[0, []], ...o.viewerCounts.map((n) => [n, []] as [number, number[]])]);
      const received = new Map<number, ViewerStats>();
      const cpuRatios = new Map<number, number[]>(o.viewerCounts.map((n) => [n, []]));
      for (let r = 0; r < o.rounds; r++) {
        const batches = makeBatches(batchCount, spansPerBatch);
        const errors = batches.reduce((a, b) => a + b.errors, 0);
        const rateWith = async (viewers: number) => {
          const tag = `sse_${storage}_${r}_${viewers}`;
          const db = storage === 'postgres' ? await createBenchDatabase(tag) : null;
          const env: Record<string, string> = db
            ? { DATABASE_URL: db.url }
            : { FAULTLINE_DATA_DIR: path.join(tmp, tag), DATABASE_URL: '' };
          env.FAULTLINE_MAX_SSE_VIEWERS = String(Math.max(200, viewers + 10));
          let stats: ViewerStats | null = null;
          try {
            const result = await httpRun(env, batches, ingest, {
              dbName: db?.name,
              beforeSend: viewers === 0 ? undefined : async ([url]) => {
                const v = await openViewers(url, viewers);
                return async () => {
                  stats = await v.stop();
                };
              },
            });
            const rate = result.spansStored / result.seconds;
            const cpuPer1k = (result.collectorCpuSeconds / result.spansStored) * 1000;
            console.log(`   ${storage} round ${r + 1}: ${viewers} viewers → ${Math.round(rate)} spans/s, collector ${round(cpuPer1k, 3)} CPU s per 1k spans (${result.spansStored} spans, ${errors} errors, ${result.seconds.toFixed(1)} s)`);
            return { rate, cpuPer1k, stats: stats as ViewerStats | null };
          } finally {
            await db?.drop();
          }
        };
        const none = await rateWith(0);
        rates.get(0)!.push(none.rate);
        for (const n of o.viewerCounts) {
          const w = await rateWith(n);
          rates.get(n)!.push(w.rate);
          ratios.get(n)!.push(w.rate / none.rate);
          cpuRatios.get(n)!.push(w.cpuPer1k / none.cpuPer1k);
          if (w.stats) {
            received.set(n, w.stats);
            const perViewer = (w.stats.events.occurrence ?? 0) / n;
            console.log(`     ${n} viewers: ${w.stats.ended} dropped, ${round(perViewer, 1)} occurrence and ${round((w.stats.events.session ?? 0) / n, 1)} session events and ${round((w.stats.events.reset ?? 0) / n, 1)} resets per viewer, ${round(w.stats.bytes / n / 1024, 1)} KiB per viewer`);
          }
        }
      }
      report.add(`sse.${storage}.ingestNoViewers`, `${storage}: ingest with no live viewer`, Math.round(median(rates.get(0)!)), 'spans/s');
      for (const n of o.viewerCounts) {
        const ratio = round(median(ratios.get(n)!), 2);
        report.add(`sse.${storage}.ingest${n}Viewers`, `${storage}: ingest with ${n} live viewers`, Math.round(median(rates.get(n)!)), 'spans/s');
        report.add(
          `sse.${storage}.viewers${n}Ratio`,
          `${storage}: ingest with ${n} viewers ÷ with none`,
          ratio,
          '×',
          n <= 100 ? atLeast(ratio, 0.8) : undefined,
        );
        report.add(`sse.${storage}.viewers${n}CpuRatio`, `${storage}: collector CPU per span with ${n} viewers ÷ with none`, round(median(cpuRatios.get(n)!), 2), '×');
        const s = received.get(n);
        if (s) report.add(`sse.${storage}.viewers${n}Dropped`, `${storage}: of ${n} viewers, dropped during the run`, s.ended, '');
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
