/**
 * The embedded store runs for months: minutes of steady ingest into a collector process on PGlite
 * with retention deleting as fast as spans arrive (spans are sent with times just inside the
 * window, so each one expires ~30 s after it arrives and the live row count stays constant). The
 * WAL directory must stay bounded (the collector checkpoints by WAL size) and the database files
 * must level off (vacuum after retention and of the updated tables lets the space be reused) —
 * before, the WAL grew without end and deleted rows' space was never reused. Then the collector is
 * killed (SIGKILL) under load and restarted: recovery replays at most one checkpoint interval of
 * WAL, so it takes about a clean start.
 *
 * FAULTLINE_EMBEDDED_SOAK_SECONDS (default 150) and FAULTLINE_EMBEDDED_SOAK_RATE (spans/s, 400) size it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hex, otlpBody, otlpSpan, postTraces, reportFigures, rssMiB, sleep, startCollectorProcess, tempDir, type CollectorProcess } from './support.ts';

const SECONDS = Number(process.env.FAULTLINE_EMBEDDED_SOAK_SECONDS ?? 150);
const RATE = Number(process.env.FAULTLINE_EMBEDDED_SOAK_RATE ?? 400);
const CHECKPOINT_MB = 16;
const RETENTION_INTERVAL_MS = 15_000;
/** A span lives this long after arrival before retention deletes it. */
const LIFETIME_MS = 30_000;
const DAY_MS = 86_400_000;
const MiB = 1024 * 1024;

function du(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    try {
      total += e.isDirectory() ? du(p) : fs.statSync(p).size;
    } catch {
      // a WAL segment recycled while we looked
    }
  }
  return total;
}

const dataDir = tempDir('embedded-soak');
let collector: CollectorProcess | null = null;
afterAll(async () => {
  await collector?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

describe('embedded store under minutes of ingest with retention', () => {
  it(`${SECONDS} s at ${RATE} spans/s: WAL and table files level off, crash recovery stays short`, async () => {
    const env = {
      FAULTLINE_DATA_DIR: dataDir,
      FAULTLINE_CHECKPOINT_WAL_MB: String(CHECKPOINT_MB),
      FAULTLINE_RETENTION_DAYS: '1',
      FAULTLINE_RETENTION_INTERVAL_MS: String(RETENTION_INTERVAL_MS),
    };
    let t0 = Date.now();
    collector = await startCollectorProcess(env);
    const firstStartMs = Date.now() - t0;
    const pgdata = path.join(dataDir, 'pgdata');
    const service = `embedded-${hex(3)}`;

    const samples: { atS: number; walMiB: number; baseMiB: number; rssMiB: number }[] = [];
    const sample = (started: number) =>
      samples.push({
        atS: Math.round((Date.now() - started) / 1000),
        walMiB: du(path.join(pgdata, 'pg_wal')) / MiB,
        baseMiB: du(path.join(pgdata, 'base')) / MiB,
        rssMiB: rssMiB(collector!.pid),
      });
    const perBatch = Math.max(1, Math.round(RATE / 4));
    let sent = 0;
    let refused = 0;
    const send = async (url: string) => {
      // Just inside the one-day window: deleted by the first retention sweep after LIFETIME_MS.
      const atMs = Date.now() - DAY_MS + LIFETIME_MS;
      const spans = Array.from({ length: perBatch }, (_, i) =>
        otlpSpan({
          sessionId: `${service}-${(sent + i) % 50}`,
          name: i % 5 === 0 ? 'faultline.session.heartbeat' : 'execute_tool bash',
          atMs,
          durationMs: 120,
          attributes: { 'gen_ai.tool.name': 'bash', 'faultline.heartbeat.phase': 'tool_loop', 'tool.command': `ls -la /workspace/${hex(6)}` },
        }),
      );
      const r = await postTraces(url, otlpBody(spans, service));
      if (r.status === 200) sent += spans.length;
      else refused++;
    };

    const started = Date.now();
    let nextSample = started;
    while (Date.now() - started < SECONDS * 1000) {
      const tick = Date.now();
      await send(collector.url);
      if (Date.now() >= nextSample) {
        sample(started);
        nextSample += 5000;
      }
      await sleep(Math.max(0, 250 - (Date.now() - tick)));
    }
    sample(started);
    const checkpoints = await metric(collector.url, 'faultline_checkpoints_total');
    const vacuums = await metric(collector.url, 'faultline_vacuums_total');
    const retained = await metric(collector.url, 'faultline_spans_accepted_total');

    // Killed under load, restarted on the same directory: time until it answers again.
    const inFlight = send(collector.url).catch(() => {});
    await sleep(100);
    const walAtKill = du(path.join(pgdata, 'pg_wal')) / MiB;
    collector.child.kill('SIGKILL');
    await collector.exited;
    await inFlight;
    t0 = Date.now();
    collector = await startCollectorProcess(env, { readyTimeoutMs: 120_000 });
    const recoveryMs = Date.now() - t0;
    await send(collector.url);
    expect(refused).toBe(0);

    // WAL: bounded by the checkpoint size (max_wal_size is twice it) plus the segment being written
    // and what arrives between two checks — not by how long the collector has run.
    const walMax = Math.max(...samples.map((s) => s.walMiB));
    expect(checkpoints).toBeGreaterThan(0);
    expect(walMax).toBeLessThanOrEqual(CHECKPOINT_MB * 2 + 32);
    // Database files: once retention deletes as much as arrives (after the lifetime and one sweep),
    // the files stop growing: the end is within 25 % (+8 MiB of slack) of the size a third of the way in.
    const warm = samples.find((s) => s.atS >= Math.max(60, SECONDS / 3))!;
    const end = samples.at(-1)!;
    expect(vacuums).toBeGreaterThan(0);
    expect(end.baseMiB).toBeLessThanOrEqual(warm.baseMiB * 1.25 + 8);
    // Recovery after SIGKILL replays at most about one checkpoint interval of WAL.
    expect(recoveryMs).toBeLessThan(Math.max(15_000, firstStartMs * 2));

    reportFigures('embedded store soak', {
      seconds: SECONDS,
      spansSent: sent,
      spansPerSecond: Math.round(sent / SECONDS),
      spansAcceptedBeforeKill: retained,
      checkpoints,
      vacuums,
      walMiB: { first: Math.round(samples[0].walMiB), max: Math.round(walMax), end: Math.round(end.walMiB), atKill: Math.round(walAtKill) },
      baseMiB: { first: Math.round(samples[0].baseMiB), warm: Math.round(warm.baseMiB), warmAtS: warm.atS, end: Math.round(end.baseMiB), max: Math.round(Math.max(...samples.map((s) => s.baseMiB))) },
      rssMiB: { first: samples[0].rssMiB, end: end.rssMiB },
      firstStartMs,
      restartAfterSigkillMs: recoveryMs,
    });
  });
});
