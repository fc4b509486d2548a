/**
 * Stuck detection (DESIGN §5, §8): many sessions report `running` over HTTP and then go silent.
 * The collector (in process, on a fresh Postgres database, default sweep interval) must flag each
 * within its threshold + 5 s. Latency per session = stuck_since − (last_seen_at + threshold),
 * both from the database: the time from the threshold running out to the flag being set.
 */
import { testConfig } from '../../collector/src/config.ts';
import { postgresStore } from '../../collector/src/store/db.ts';
import { startCollector } from '../../collector/src/server.ts';
import { createBenchDatabase } from '../lib/env.ts';
import { Report, atMost } from '../lib/report.ts';
import { percentile, round, sleep } from '../lib/stats.ts';
import { makeStatusBatch } from '../lib/traffic.ts';

export async function runStuck(report: Report, o: { quick: boolean }): Promise<void> {
  const sessions = o.quick ? 200 : 1000;
  const thresholdMs = 5000;
  const config = testConfig({ port: 0, host: '127.0.0.1' });
  config.stuckThresholdsMs = { ...config.stuckThresholdsMs, running: thresholdMs };
  const db = await createBenchDatabase('stuck');
  const store = postgresStore(db.url, { max: 4 });
  await store.migrate();
  const collector = await startCollector(config, { store });
  try {
    // Ten requests of 100 sessions over about two seconds: staggered silences, like real traffic.
    const perRequest = Math.max(1, Math.floor(sessions / 10));
    for (let r = 0; r * perRequest < sessions; r++) {
      const ids = Array.from({ length: Math.min(perRequest, sessions - r * perRequest) }, (_, k) => `stuck-${process.pid}-${r * perRequest + k}`);
      const res = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: makeStatusBatch(ids, 'running', Date.now()) as BodyInit,
      });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
      await sleep(200);
    }
    const deadline = Date.now() + thresholdMs + 30_000;
    let flagged = 0;
    while (Date.now() < deadline) {
      const [row] = await store.query<{ n: string }>('select count(*) as n from sessions where stuck');
      flagged = Number(row.n);
      if (flagged >= sessions) break;
      await sleep(250);
    }
    const rows = await store.query<{ ms: number }>(
      `select (extract(epoch from stuck_since - last_seen_at) * 1000 - $1)::float8 as ms from sessions where stuck`,
      [thresholdMs],
    );
    const lat = rows.map((r) => Number(r.ms));
    const max = lat.length ? Math.max(...lat) : NaN;
    report.add('stuck.sessions', 'sessions gone silent', sessions);
    report.add('stuck.flagged', 'sessions flagged stuck', flagged, '', { text: `= ${sessions}`, met: flagged === sessions });
    report.add('stuck.thresholdMs', 'stuck threshold (running)', thresholdMs, 'ms');
    report.add('stuck.sweepIntervalMs', 'watchdog sweep interval (default)', config.sweepIntervalMs, 'ms');
    report.add('stuck.afterThresholdP50Ms', 'flagged after threshold, p50', round(percentile(lat, 50), 0), 'ms');
    report.add('stuck.afterThresholdMaxMs', 'flagged after threshold, max', round(max, 0), 'ms', atMost(round(max, 0), 5000));
  } finally {
    await collector.close();
    await db.drop();
  }
}
