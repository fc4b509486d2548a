/**
 * Ingest (DESIGN §8): OTLP protobuf over HTTP from concurrent clients into a collector in its own
 * process, against the physical ceiling of the same rows on the same machine in the same round.
 *
 * - HTTP: `clients` loops POST pre-serialized batches (~1000 spans, ~400 kB) to /v1/traces until
 *   all are sent or the time bound passes; a 429/503 is retried after its Retry-After. A 200
 *   means committed (the pipeline acknowledges after commit); rows are counted at the end.
 * - COPY ceiling: the same requests decoded and enriched up front (not timed), then formatted as
 *   COPY text by the collector's own span column list and written with `COPY spans FROM STDIN`
 *   (postgres.js `.writable()`; PGlite's `/dev/blob`) into the `spans` table of a freshly migrated
 *   database (same shape, same indexes), in chunks of `maxBatchSpans`, formatting the next chunk
 *   while the server loads the previous one. Only span rows: no errors, groups or sessions.
 * - Raw: the same enriched rows through the collector's writer (spans + errors + groups + sessions),
 *   one transaction per `maxBatchSpans`, one after another on one connection, in this process.
 * - Two collectors (Postgres): two collector processes on one database, the clients split between
 *   them, with every session's spans cut across four requests so both write the same session
 *   rows at once; afterwards every session's state and counts and every error group's count are
 *   compared with what the traffic says they must be.
 * - CPU: seconds per 1000 spans of the collector process (PGlite runs inside it) and, on
 *   Postgres, of the server backends of the run's database (/proc/<pid>/stat), so the cost is
 *   visible apart from machine load.
 *
 * Each round uses fresh databases and runs the sides back to back, so all see the same machine
 * load; ratios are per round, and the reported figure is the median of the rounds' ratios.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { decodeTraceRequest } from '../../collector/src/otlp/index.ts';
import { enrichSpans, type EnrichedSpan } from '../../collector/src/ingest/enrich.ts';
import { pgliteStore, postgresStore, type Store } from '../../collector/src/store/db.ts';
import { testConfig } from '../../collector/src/config.ts';
import { SPAN_COLUMNS, writeNewBatch } from '../../collector/src/store/write-batch.ts';
import { columnNames, copyText } from '../../collector/src/store/columns.ts';
import { baseDatabaseUrl, createBenchDatabase } from '../lib/env.ts';
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
  /** Also run two collectors on one Postgres database (combined rate, exact counts). */
  twoCollectors: boolean;
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
  /** Sum of write transaction durations (with two writers, up to twice the run). */
  writeSeconds: number;
  collectorCpuSeconds: number;
  /** Postgres backends of the run's database; null on PGlite (it runs inside the collector). */
  dbCpuSeconds: number | null;
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
async function sendAll(urls: string[], batches: TrafficBatch[], clients: number, maxSeconds: number) {
  let next = 0;
  let accepted = 0;
  let retries = 0;
  let failures = 0;
  const latencyMs: number[] = [];
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  const loop = async (url: string) => {
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
  await Promise.all(Array.from({ length: clients }, (_, i) => loop(urls[i % urls.length])));
  return { accepted, retries, failures, latencyMs, seconds: (performance.now() - started) / 1000, requests: latencyMs.length };
}

type ChildCount = { count: { spans: number }; stats: { batchesWritten: number; writeMsTotal: number }; cpuSeconds: number };

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used so far by one process (user + system), from /proc; 0 once it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU of the Postgres backends serving one database. The server runs on this host, so each
 * backend's /proc entry is readable; a backend that ended between two readings is missed, and
 * the shared background processes (WAL writer, checkpointer) cannot be told apart per database.
 */
async function databaseCpu(dbName: string): Promise<Map<number, number>> {
  const admin = postgres(baseDatabaseUrl(), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin.unsafe<{ pid: number }[]>('select pid from pg_stat_activity where datname = $1', [dbName]);
    return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid)]));
  } finally {
    await admin.end();
  }
}

const cpuBetween = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, s]) => sum + Math.max(0, s - (before.get(pid) ?? 0)), 0);

/** `clients` loops over the collectors (client i uses collector i mod n), all from one queue of batches. */
export async function httpRun(
  env: Record<string, string>,
  batches: TrafficBatch[],
  o: IngestOptions,
  options: {
    collectors?: number;
    dbName?: string;
    /** After the warm-up, before the clock starts (e.g. connect live viewers); returns its own clean-up. */
    beforeSend?: (urls: string[]) => Promise<() => Promise<void>>;
  } = {},
): Promise<HttpResult> {
  const children: { child: ChildProcess; url: string }[] = [];
  let afterSend: (() => Promise<void>) | null = null;
  try {
    for (let i = 0; i < (options.collectors ?? 1); i++) children.push(await startChild(env, o.profile && i === 0));
    // One small warm-up request per collector (JIT, connection pool, prepared plans), not counted.
    let warmSpans = 0;
    for (const { url } of children) {
      // Without errors, so the error groups hold exactly what the measured traffic produced.
      const warm = makeBatches(1, 50, { errorRate: 0 });
      warmSpans += warm[0].spans;
      await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: warm[0].body as BodyInit });
    }
    if (options.beforeSend) afterSend = await options.beforeSend(children.map((c) => c.url));
    const before = await Promise.all(children.map(({ child }) => ask<ChildCount>(child, 'count', 'count')));
    const dbBefore = options.dbName ? await databaseCpu(options.dbName) : null;
    const sent = await sendAll(children.map((c) => c.url), batches, o.clients, o.maxSeconds);
    const dbAfter = options.dbName ? await databaseCpu(options.dbName) : null;
    const after = await Promise.all(children.map(({ child }) => ask<ChildCount>(child, 'count', 'count')));
    const sum = (xs: ChildCount[], f: (x: ChildCount) => number) => xs.reduce((a, x) => a + f(x), 0);
    return {
      spansAccepted: sent.accepted,
      spansStored: after[0].count.spans - warmSpans,
      seconds: sent.seconds,
      requests: sent.requests,
      retries: sent.retries,
      failures: sent.failures,
      latencyMs: sent.latencyMs,
      batchesWritten: sum(after, (x) => x.stats.batchesWritten) - sum(before, (x) => x.stats.batchesWritten),
      writeSeconds: (sum(after, (x) => x.stats.writeMsTotal) - sum(before, (x) => x.stats.writeMsTotal)) / 1000,
      collectorCpuSeconds: sum(after, (x) => x.cpuSeconds) - sum(before, (x) => x.cpuSeconds),
      dbCpuSeconds: dbBefore && dbAfter ? cpuBetween(dbBefore, dbAfter) : null,
    };
  } finally {
    await afterSend?.();
    await Promise.all(children.map(({ child }) => stopChild(child)));
  }
}

function enrichAll(batches: TrafficBatch[]): EnrichedSpan[] {
  const out: EnrichedSpan[] = [];
  // Per request, as the collector does (one scrub memo per request).
  for (const b of batches) out.push(...enrichSpans(decodeTraceRequest(b.body, 'protobuf').spans));
  return out;
}

interface CopyResult {
  spansPerSec: number;
  stored: number;
  /** Postgres: the COPY backend; PGlite: this process (formatting and the embedded database). */
  cpuSeconds: number;
}

const COPY_SPANS = `copy spans (${columnNames(SPAN_COLUMNS)})`;

/**
 * The physical ceiling on Postgres: COPY of the span rows into a migrated `spans` table. The
 * next chunk is formatted while the server loads the previous one.
 */
async function copyRunPostgres(url: string, rows: EnrichedSpan[], chunk: number): Promise<CopyResult> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ pid }] = await sql.unsafe<{ pid: number }[]>('select pg_backend_pid() as pid');
    const cpu0 = processCpuSeconds(pid);
    const started = performance.now();
    let loading: Promise<void> = Promise.resolve();
    for (let i = 0; i < rows.length; i += chunk) {
      const pieces = copyText(SPAN_COLUMNS, rows.slice(i, i + chunk));
      await loading;
      loading = (async () => {
        const writable = await sql.unsafe(`${COPY_SPANS} from stdin`).writable();
        await pipeline(Readable.from([Buffer.concat(pieces.map((piece) => Buffer.from(piece)))]), writable);
      })();
    }
    await loading;
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = processCpuSeconds(pid) - cpu0;
    const [row] = await sql.unsafe<{ n: string }[]>('select count(*) as n from spans');
    return { spansPerSec: rows.length / seconds, stored: Number(row.n), cpuSeconds };
  } finally {
    await sql.end();
  }
}

/** The physical ceiling on PGlite: COPY from PGlite's `/dev/blob` device, one chunk at a time. */
async function copyRunPglite(pg: PGlite, rows: EnrichedSpan[], chunk: number): Promise<CopyResult> {
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < rows.length; i += chunk) {
    const blob = new Blob(copyText(SPAN_COLUMNS, rows.slice(i, i + chunk)));
    await pg.query(`${COPY_SPANS} from '/dev/blob'`, [], { blob });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { rows: [row] } = await pg.query<{ n: string }>('select count(*) as n from spans');
  return { spansPerSec: rows.length / seconds, stored: Number(row.n), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The raw writer: enriched rows straight through the collector's writer (all new: its fast path), one transaction per maxBatchSpans. */
async function rawRun(store: Store, rows: EnrichedSpan[], chunk: number): Promise<{ spansPerSec: number; stored: number }> {
  const started = performance.now();
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    await store.transaction((tx) => writeNewBatch(tx, part));
  }
  const seconds = (performance.now() - started) / 1000;
  const [row] = await store.query<{ n: string }>('select count(*) as n from spans');
  return { spansPerSec: rows.length / seconds, stored: Number(row.n) };
}

interface Expected {
  sessions: Map<string, { spans: number; errors: number; state: string | null; stateUs: number }>;
  groups: Map<string, number>;
  errors: number;
}

/** What the database must hold after the traffic, worked out from the enriched rows. */
function expectedFrom(rows: EnrichedSpan[]): Expected {
  const sessions: Expected['sessions'] = new Map();
  const groups = new Map<string, number>();
  let errors = 0;
  for (const s of rows) {
    const counted = s.error !== null && !s.errorPropagated;
    if (counted) {
      errors++;
      groups.set(s.error!.fingerprint, (groups.get(s.error!.fingerprint) ?? 0) + 1);
    }
    if (!s.sessionId) continue;
    let e = sessions.get(s.sessionId);
    if (!e) sessions.set(s.sessionId, (e = { spans: 0, errors: 0, state: null, stateUs: -Infinity }));
    e.spans++;
    if (counted) e.errors++;
    if (s.state && s.endUs >= e.stateUs) {
      e.state = s.state;
      e.stateUs = s.endUs;
    }
  }
  return { sessions, groups, errors };
}

/** Compare the database with the expectation; an empty list means exact. */
async function mismatches(url: string, expected: Expected): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const out: string[] = [];
  try {
    const sessions = await sql.unsafe<{ id: string; state: string | null; span_count: number; error_count: number }[]>(
      'select id, state, span_count, error_count from sessions',
    );
    const seen = new Set<string>();
    for (const r of sessions) {
      const e = expected.sessions.get(r.id);
      if (!e) continue;
      seen.add(r.id);
      if (r.span_count !== e.spans || r.error_count !== e.errors || r.state !== e.state) {
        out.push(`session ${r.id}: ${r.state}/${r.span_count} spans/${r.error_count} errors, expected ${e.state}/${e.spans}/${e.errors}`);
      }
    }
    for (const id of expected.sessions.keys()) if (!seen.has(id)) out.push(`session ${id} missing`);
    const groups = await sql.unsafe<{ fingerprint: string; count: number }[]>('select fingerprint, count from error_groups');
    const counts = new Map(groups.map((g) => [g.fingerprint, g.count]));
    for (const [fp, n] of expected.groups) if (counts.get(fp) !== n) out.push(`group ${fp}: ${counts.get(fp) ?? 0}, expected ${n}`);
    const [{ n }] = await sql.unsafe<{ n: number }[]>("select count(*)::int as n from errors where id not like 'stuck:%'");
    if (n !== expected.errors) out.push(`errors: ${n}, expected ${expected.errors}`);
  } finally {
    await sql.end();
  }
  return out;
}

interface Round {
  http: HttpResult;
  raw: number;
  copy: CopyResult;
  copyStored: number;
  /** Sessions split across requests: one collector, then two on one database. */
  two: { one: HttpResult; http: HttpResult; mismatches: string[] } | null;
}

const rate = (h: HttpResult) => h.spansAccepted / h.seconds;
const per1k = (seconds: number, spans: number) => (seconds / spans) * 1000;

async function postgresRound(r: number, batches: TrafficBatch[], rows: EnrichedSpan[], chunk: number, o: IngestOptions): Promise<Round> {
  const copyDb = await createBenchDatabase(`ingest_copy_${r}`);
  const rawDb = await createBenchDatabase(`ingest_raw_${r}`);
  const httpDb = await createBenchDatabase(`ingest_http_${r}`);
  try {
    for (const db of [copyDb, rawDb]) {
      const store = postgresStore(db.url, { max: 1 });
      await store.migrate();
      await store.close();
    }
    const copy = await copyRunPostgres(copyDb.url, rows, chunk);
    const store = postgresStore(rawDb.url, { max: 2 });
    let raw;
    try {
      raw = await rawRun(store, rows, chunk);
    } finally {
      await store.close();
    }
    const http = await httpRun({ DATABASE_URL: httpDb.url }, batches, o, { dbName: httpDb.name });
    let two: Round['two'] = null;
    if (o.twoCollectors) {
      // Sessions cut across four requests, so the two collectors upsert the same rows at once;
      // one collector on the same traffic, in the same round, is the comparison.
      const split = makeBatches(batches.length, o.spansPerBatch, { splitAcross: 4 });
      const expected = expectedFrom(enrichAll(split));
      // No watchdog verdicts during the check: its stuck errors would change the counts.
      const quiet = {
        FAULTLINE_STUCK_STARTING_MS: '86400000', FAULTLINE_STUCK_RUNNING_MS: '86400000', FAULTLINE_STUCK_RETRYING_MS: '86400000',
        FAULTLINE_STUCK_WALLCLOCK_MS: String(7 * 86_400_000),
      };
      const oneDb = await createBenchDatabase(`ingest_one_${r}`);
      const twoDb = await createBenchDatabase(`ingest_two_${r}`);
      try {
        const oneHttp = await httpRun({ DATABASE_URL: oneDb.url, ...quiet }, split, o, { dbName: oneDb.name });
        const twoHttp = await httpRun({ DATABASE_URL: twoDb.url, ...quiet }, split, o, { collectors: 2, dbName: twoDb.name });
        // Exact with one collector too: its two writers also meet on the same session rows.
        const bad = [...(await mismatches(oneDb.url, expected)).map((m) => `one collector: ${m}`), ...(await mismatches(twoDb.url, expected))];
        two = { one: oneHttp, http: twoHttp, mismatches: bad };
      } finally {
        await oneDb.drop();
        await twoDb.drop();
      }
    }
    return { http, raw: raw.spansPerSec, copy, copyStored: copy.stored, two };
  } finally {
    await copyDb.drop();
    await rawDb.drop();
    await httpDb.drop();
  }
}

async function pgliteRound(batches: TrafficBatch[], rows: EnrichedSpan[], chunk: number, o: IngestOptions): Promise<Round> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-'));
  try {
    // File-backed, like the embedded default (./.faultline/pgdata).
    const copyPg = await PGlite.create(path.join(dir, 'copy'));
    const copyStore = pgliteStore(copyPg, 'bench copy');
    let copy;
    try {
      await copyStore.migrate();
      copy = await copyRunPglite(copyPg, rows, chunk);
    } finally {
      await copyStore.close();
    }
    const pg = await PGlite.create(path.join(dir, 'raw'));
    const store = pgliteStore(pg, 'bench raw');
    let raw;
    try {
      await store.migrate();
      raw = await rawRun(store, rows, chunk);
    } finally {
      await store.close();
    }
    const http = await httpRun({ FAULTLINE_DATA_DIR: path.join(dir, 'http'), DATABASE_URL: '' }, batches, o);
    return { http, raw: raw.spansPerSec, copy, copyStored: copy.stored, two: null };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const range = (xs: number[], digits = 2) => (xs.length > 1 ? `${round(Math.min(...xs), digits)}–${round(Math.max(...xs), digits)}` : String(round(xs[0], digits)));

export async function runIngest(report: Report, o: IngestOptions): Promise<void> {
  const chunk = testConfig().maxBatchSpans;
  for (const storage of o.storages) {
    const total = o.spans[storage];
    const count = Math.max(1, Math.round(total / o.spansPerBatch));
    console.log(`ingest/${storage}: generating ${count} batches of ${o.spansPerBatch} spans…`);
    const rounds: Round[] = [];
    for (let r = 0; r < o.rounds; r++) {
      // Fresh ids every round: the idempotency path must not help the second round.
      const batches = makeBatches(count, o.spansPerBatch);
      const rows = enrichAll(batches);
      const round_ = storage === 'postgres' ? await postgresRound(r, batches, rows, chunk, o) : await pgliteRound(batches, rows, chunk, o);
      rounds.push(round_);
      const h = round_.http;
      console.log(
        `  round ${r + 1}: http ${Math.round(rate(h))} spans/s (stored ${h.spansStored}/${h.spansAccepted}, ${h.batchesWritten} transactions, ` +
          `${h.retries} retries, writers busy ${Math.round((h.writeSeconds / h.seconds) * 100)} %), COPY ${Math.round(round_.copy.spansPerSec)} spans/s, raw writer ${Math.round(round_.raw)} spans/s; ` +
          `http/COPY ${round(rate(h) / round_.copy.spansPerSec)}, http/raw ${round(rate(h) / round_.raw)}; ` +
          `CPU s/1k spans: collector ${round(per1k(h.collectorCpuSeconds, h.spansAccepted), 3)}` +
          (h.dbCpuSeconds !== null ? `, database ${round(per1k(h.dbCpuSeconds, h.spansAccepted), 3)}` : '') +
          `, COPY ${round(per1k(round_.copy.cpuSeconds, rows.length), 3)}`,
      );
      if (round_.two) {
        const t = round_.two;
        console.log(
          `  sessions split across requests: one collector ${Math.round(rate(t.one))} spans/s, two collectors ${Math.round(rate(t.http))} spans/s combined (${round(rate(t.http) / rate(t.one))} × one), stored ${t.http.spansStored}/${t.http.spansAccepted}, ${t.http.batchesWritten} transactions, ${t.http.retries} retries, ` +
            `${t.mismatches.length === 0 ? 'sessions, errors and groups exact' : `${t.mismatches.length} mismatches: ${t.mismatches.slice(0, 3).join('; ')}`}`,
        );
      }
    }
    const k = `ingest.${storage}`;
    const rates = rounds.map((x) => rate(x.http));
    const sent = rounds.reduce((a, x) => a + x.http.spansAccepted, 0);
    const stored = rounds.reduce((a, x) => a + x.http.spansStored, 0);
    const latencies = rounds.flatMap((x) => x.http.latencyMs);
    const copyRatios = rounds.map((x) => rate(x.http) / x.copy.spansPerSec);
    const rawRatios = rounds.map((x) => rate(x.http) / x.raw);
    report.add(`${k}.spansPerSecAccepted`, `${storage}: OTLP/HTTP spans/s accepted (${o.clients} clients; rounds ${range(rates, 0)})`, Math.round(median(rates)), 'spans/s');
    report.add(`${k}.spansPerSecStored`, `${storage}: spans/s stored (rows counted at the end)`, Math.round(median(rounds.map((x) => x.http.spansStored / x.http.seconds))), 'spans/s');
    report.add(`${k}.spansStoredOfAccepted`, `${storage}: rows stored / spans accepted`, stored === sent ? '1 (all)' : `${stored}/${sent}`);
    report.add(`${k}.requestP50Ms`, `${storage}: request latency p50`, round(percentile(latencies, 50), 1), 'ms');
    report.add(`${k}.requestP99Ms`, `${storage}: request latency p99`, round(percentile(latencies, 99), 1), 'ms');
    report.add(`${k}.copySpansPerSec`, `${storage}: COPY of the same span rows, same run (rounds ${range(rounds.map((x) => x.copy.spansPerSec), 0)})`, Math.round(median(rounds.map((x) => x.copy.spansPerSec))), 'spans/s');
    report.add(`${k}.rawSpansPerSec`, `${storage}: raw writer rate (writeNewBatch), same rows, one process`, Math.round(median(rounds.map((x) => x.raw))), 'spans/s');
    const copyRatio = round(median(copyRatios), 2);
    report.add(`${k}.httpToCopyRatio`, `${storage}: HTTP ingest / COPY (rounds ${range(copyRatios)})`, copyRatio, '×', atLeast(copyRatio, 0.5));
    report.add(`${k}.httpToRawRatio`, `${storage}: HTTP ingest / raw writer (rounds ${range(rawRatios)})`, round(median(rawRatios), 2), '×');
    const collectorCpu = rounds.map((x) => per1k(x.http.collectorCpuSeconds, x.http.spansAccepted));
    report.add(
      `${k}.collectorCpuSecPer1k`,
      `${storage}: collector process CPU per 1k spans${storage === 'pglite' ? ' (embedded PGlite included)' : ''} (rounds ${range(collectorCpu, 3)})`,
      round(median(collectorCpu), 3),
      's',
    );
    if (storage === 'postgres') {
      const dbCpu = rounds.map((x) => per1k(x.http.dbCpuSeconds ?? NaN, x.http.spansAccepted));
      report.add(`${k}.dbCpuSecPer1k`, `postgres: database backends CPU per 1k spans over HTTP (rounds ${range(dbCpu, 3)})`, round(median(dbCpu), 3), 's');
    }
    const copyCpu = rounds.map((_, i) => per1k(rounds[i].copy.cpuSeconds, rounds[i].copyStored));
    report.add(
      `${k}.copyCpuSecPer1k`,
      `${storage}: ${storage === 'postgres' ? 'COPY backend' : 'COPY (formatting + PGlite)'} CPU per 1k spans`,
      round(median(copyCpu), 3),
      's',
    );
    report.add(`${k}.retries`, `${storage}: 429/503 answers retried`, rounds.reduce((a, x) => a + x.http.retries + x.http.failures, 0));
    const twos = rounds.filter((x) => x.two).map((x) => ({ one: rate(x.two!.one), two: x.two! }));
    if (twos.length) {
      const combined = twos.map((t) => rate(t.two.http));
      report.add(`${k}.twoCollectors.spansPerSec`, `postgres: two collectors on one database, combined spans/s (rounds ${range(combined, 0)})`, Math.round(median(combined)), 'spans/s');
      report.add(`${k}.twoCollectors.toOneRatio`, 'postgres: two collectors / one collector, same traffic, same round', round(median(twos.map((t) => rate(t.two.http) / t.one)), 2), '×');
      const bad = twos.flatMap((t) => t.two.mismatches);
      const lost = twos.reduce((a, t) => a + t.two.http.spansAccepted - t.two.http.spansStored + t.two.one.spansAccepted - t.two.one.spansStored, 0);
      const exact = bad.length === 0 && lost === 0;
      report.add(`${k}.twoCollectors.exact`, 'postgres: two collectors: every span stored, session state/counts and group counts exact', exact ? 'yes' : `no (${lost} lost, ${bad.length} mismatches)`, '', { text: 'yes', met: exact });
      for (const m of bad.slice(0, 10)) report.note(`two collectors: ${m}`);
    }
  }
}
