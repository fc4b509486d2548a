/**
 * Ingest (DESIGN §8): OTLP protobuf over HTTP from concurrent clients into a collector in its own
 * process, beside the raw bulk-insert rate of the same rows into the same kind of database.
 *
 * - HTTP: `clients` loops POST pre-serialized batches (~1000 spans, ~400 kB) to /v1/traces until
 *   all are sent or the time bound passes; a 429/503 is retried after its Retry-After. A 200
 *   means committed (the pipeline acknowledges after commit); rows are counted at the end.
 * - Raw ceiling: the same batches decoded and enriched up front (not timed), then written by
 *   `writeBatch` (the collector's own multi-row unnest insert, spans + errors + groups + session
 *   upserts) in transactions of `maxBatchSpans`, one after another on one connection, in this
 *   process — what the collector's single writer could do with zero HTTP, decode and enrich cost.
 *
 * Each round uses two fresh databases (one per side) and runs raw then HTTP back to back, so
 * both see the same machine load; the reported ratio is the median of the rounds' ratios.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { decodeTraceRequest } from '../../collector/src/otlp/index.ts';
import { enrichSpans, type EnrichedSpan } from '../../collector/src/ingest/enrich.ts';
import { pgliteStore, postgresStore, type Store } from '../../collector/src/store/db.ts';
import { testConfig } from '../../collector/src/config.ts';
import { writeBatch } from '../../collector/src/store/write-batch.ts';
import { createBenchDatabase } from '../lib/env.ts';
import { Report, atLeast } from '../lib/report.ts';
import { median, percentile, round, sleep } from '../lib/stats.ts';
import { makeBatches, type TrafficBatch } from '../lib/traffic.ts';

const CHILD = fileURLToPath(new URL('../collector-child.ts', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results', import.meta.url));

export interface IngestOptions {
  storages: ('postgres' | 'pglite')[];
  clients: number;
  spansPerBatch: number;
  /** Spans sent per round, per storage. */
  spans: { postgres: number; pglite: number };
  rounds: number;
  /** Upper bound on one HTTP run. */
  maxSeconds: number;
  /** Run the child collector under --cpu-prof (profiles in bench/results/profiles). */
  profile: boolean;
}

interface HttpResult {
  spansAccepted: number;
  spansStored: number;
  seconds: number;
  requests: number;
  retries: number;
  failures: number;
  latencyMs: number[];
  batchesWritten: number;
}

async function startChild(env: Record<string, string>, profile: boolean): Promise<{ child: ChildProcess; url: string }> {
  const execArgv = ['--conditions=@faultline/source', '--import', 'tsx'];
  if (profile) {
    const dir = path.join(RESULTS, 'profiles');
    fs.mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = fork(CHILD, [], {
    execArgv,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FAULTLINE_SWEEP_INTERVAL_MS: '2000', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('collector child did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`collector child exited with ${code} before it was ready`)));
    child.on('message', (m: { ready?: boolean; url?: string }) => {
      if (m.ready && m.url) {
        clearTimeout(timer);
        resolve(m.url);
      }
    });
  });
  return { child, url };
}

function ask<T>(child: ChildProcess, cmd: string, key: string, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector child did not answer ${cmd}`)), timeoutMs);
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m || 'error' in m) {
        clearTimeout(timer);
        child.off('message', onMessage);
        if ('error' in m) reject(new Error(String(m.error)));
        else resolve(m as T);
      }
    };
    child.on('message', onMessage);
    child.send({ cmd });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await ask(child, 'close', 'closed', 30_000);
  } catch {
    child.kill('SIGTERM');
  }
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** `clients` loops sending the batches over HTTP; bounded by count and time. */
async function sendAll(url: string, batches: TrafficBatch[], clients: number, maxSeconds: number) {
  let next = 0;
  let accepted = 0;
  let retries = 0;
  let failures = 0;
  const latencyMs: number[] = [];
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  const loop = async () => {
    while (next < batches.length && performance.now() < deadline) {
      const batch = batches[next++];
      for (let attempt = 0; attempt < 20 && performance.now() < deadline; attempt++) {
        const t0 = performance.now();
        let status = 0;
        let retryAfter = 1;
        try {
          const res = await fetch(`${url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-protobuf' },
            body: batch.body as BodyInit,
            signal: AbortSignal.timeout(30_000),
          });
          await res.arrayBuffer();
          status = res.status;
          retryAfter = Number(res.headers.get('retry-after') ?? 1);
        } catch {
          status = 0;
        }
        latencyMs.push(performance.now() - t0);
        if (status === 200) {
          accepted += batch.spans;
          break;
        }
        if (status === 429 || status === 503 || status === 0) {
          retries++;
          await sleep(Math.min(retryAfter, 2) * 1000 * Math.random());
          continue;
        }
        failures++;
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return { accepted, retries, failures, latencyMs, seconds: (performance.now() - started) / 1000, requests: latencyMs.length };
}

async function httpRun(env: Record<string, string>, batches: TrafficBatch[], o: IngestOptions): Promise<HttpResult> {
  const { child, url } = await startChild(env, o.profile);
  try {
    // One small warm-up request (JIT, connection pool, prepared plans), not counted.
    const warm = makeBatches(1, 50);
    await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: warm[0].body as BodyInit });
    const sent = await sendAll(url, batches, o.clients, o.maxSeconds);
    const { count, stats } = await ask<{ count: { spans: number }; stats: { batchesWritten: number } }>(child, 'count', 'count');
    return {
      spansAccepted: sent.accepted,
      spansStored: count.spans - warm[0].spans,
      seconds: sent.seconds,
      requests: sent.requests,
      retries: sent.retries,
      failures: sent.failures,
      latencyMs: sent.latencyMs,
      batchesWritten: stats.batchesWritten - 1,
    };
  } finally {
    await stopChild(child);
  }
}

function enrichAll(batches: TrafficBatch[]): EnrichedSpan[] {
  const out: EnrichedSpan[] = [];
  // Per request, as the collector does (one scrub memo per request).
  for (const b of batches) out.push(...enrichSpans(decodeTraceRequest(b.body, 'protobuf').spans));
  return out;
}

/** The raw ceiling: enriched rows straight through writeBatch, one transaction per maxBatchSpans. */
async function rawRun(store: Store, rows: EnrichedSpan[], chunk: number): Promise<{ spansPerSec: number; stored: number }> {
  const started = performance.now();
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    await store.transaction((tx) => writeBatch(tx, part));
  }
  const seconds = (performance.now() - started) / 1000;
  const [row] = await store.query<{ n: string }>('select count(*) as n from spans');
  return { spansPerSec: rows.length / seconds, stored: Number(row.n) };
}

export async function runIngest(report: Report, o: IngestOptions): Promise<void> {
  const chunk = testConfig().maxBatchSpans;
  for (const storage of o.storages) {
    const total = o.spans[storage];
    const count = Math.max(1, Math.round(total / o.spansPerBatch));
    console.log(`ingest/${storage}: generating ${count} batches of ${o.spansPerBatch} spans…`);
    const rounds: { http: HttpResult; raw: number; rawStored: number }[] = [];
    for (let r = 0; r < o.rounds; r++) {
      // Fresh ids every round: the idempotency path must not help the second round.
      const batches = makeBatches(count, o.spansPerBatch);
      const rows = enrichAll(batches);
      let raw: { spansPerSec: number; stored: number };
      let http: HttpResult;
      if (storage === 'postgres') {
        const rawDb = await createBenchDatabase(`ingest_raw_${r}`);
        const httpDb = await createBenchDatabase(`ingest_http_${r}`);
        try {
          const store = postgresStore(rawDb.url, { max: 2 });
          try {
            await store.migrate();
            raw = await rawRun(store, rows, chunk);
          } finally {
            await store.close();
          }
          http = await httpRun({ DATABASE_URL: httpDb.url }, batches, o);
        } finally {
          await rawDb.drop();
          await httpDb.drop();
        }
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-'));
        try {
          // File-backed, like the embedded default (./.faultline/pgdata).
          const pg = await PGlite.create(path.join(dir, 'raw'));
          const store = pgliteStore(pg, 'bench raw');
          try {
            await store.migrate();
            raw = await rawRun(store, rows, chunk);
          } finally {
            await store.close();
          }
          http = await httpRun({ FAULTLINE_DATA_DIR: path.join(dir, 'http'), DATABASE_URL: '' }, batches, o);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
      rounds.push({ http, raw: raw.spansPerSec, rawStored: raw.stored });
      const rate = http.spansAccepted / http.seconds;
      console.log(
        `  round ${r + 1}: http ${Math.round(rate)} spans/s (stored ${http.spansStored}/${http.spansAccepted}, ` +
          `${http.batchesWritten} transactions, ${http.retries} retries), raw ${Math.round(raw.spansPerSec)} spans/s, ratio ${round(rate / raw.spansPerSec)}`,
      );
    }
    const rates = rounds.map((x) => x.http.spansAccepted / x.http.seconds);
    const storedRates = rounds.map((x) => x.http.spansStored / x.http.seconds);
    const raws = rounds.map((x) => x.raw);
    const ratios = rounds.map((x, i) => rates[i] / x.raw);
    const latencies = rounds.flatMap((x) => x.http.latencyMs);
    const sent = rounds.reduce((a, x) => a + x.http.spansAccepted, 0);
    const stored = rounds.reduce((a, x) => a + x.http.spansStored, 0);
    const k = `ingest.${storage}`;
    const httpRate = median(rates);
    report.add(`${k}.spansPerSecAccepted`, `${storage}: OTLP/HTTP spans/s accepted (${o.clients} clients)`, Math.round(httpRate), 'spans/s',
      storage === 'postgres' ? atLeast(Math.round(httpRate), 50_000) : atLeast(Math.round(httpRate), 15_000));
    report.add(`${k}.spansPerSecStored`, `${storage}: spans/s stored (rows counted at the end)`, Math.round(median(storedRates)), 'spans/s');
    report.add(`${k}.spansStoredOfAccepted`, `${storage}: rows stored / spans accepted`, stored === sent ? '1 (all)' : `${stored}/${sent}`);
    report.add(`${k}.requestP50Ms`, `${storage}: request latency p50`, round(percentile(latencies, 50), 1), 'ms');
    report.add(`${k}.requestP99Ms`, `${storage}: request latency p99`, round(percentile(latencies, 99), 1), 'ms');
    report.add(`${k}.rawSpansPerSec`, `${storage}: raw writeBatch rate, same rows, one process`, Math.round(median(raws)), 'spans/s');
    const ratio = round(median(ratios), 2);
    report.add(`${k}.httpToRawRatio`, `${storage}: HTTP ingest / raw bulk insert`, ratio, '×', storage === 'postgres' ? atLeast(ratio, 0.5) : undefined);
    report.add(`${k}.retries`, `${storage}: 429/503 answers retried`, rounds.reduce((a, x) => a + x.http.retries + x.http.failures, 0));
  }
}

