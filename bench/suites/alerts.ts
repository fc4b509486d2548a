/**
 * Alerts off the hot path's critical cost: the same OTLP protobuf traffic (sessions with status,
 * turns, tools, 5 % failing) sent over HTTP to an in-process collector with no alert rules and to
 * one with a rule of every kind — new group, regression, stuck session, error rate, session
 * webhooks for failures — whose deliveries go to a local receiver. Side by side, alternating,
 * fresh storage per run; the figure is spans/s with rules ÷ without, on Postgres and PGlite. A third
 * run with the same rules muted keeps every write-path hook and sends nothing: the cost inside the
 * write transaction alone.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { testConfig } from '../../collector/src/config.ts';
import { startCollector, type RunningCollector } from '../../collector/src/server.ts';
import { pgliteStore, postgresStore, type Store } from '../../collector/src/store/db.ts';
import { createBenchDatabase } from '../lib/env.ts';
import { Report } from '../lib/report.ts';
import { median, round } from '../lib/stats.ts';
import { makeBatches, type TrafficBatch } from '../lib/traffic.ts';

type StorageName = 'postgres' | 'pglite';

async function freshStore(storage: StorageName, tag: string): Promise<{ store: Store; drop(): Promise<void> }> {
  if (storage === 'pglite') {
    const store = pgliteStore(await PGlite.create(), 'bench (in-memory PGlite)');
    await store.migrate();
    return { store, drop: async () => {} };
  }
  const db = await createBenchDatabase(tag);
  const store = postgresStore(db.url);
  await store.migrate();
  return { store, drop: () => db.drop() };
}

async function withRules(collector: RunningCollector, receiverUrl: string, muted: boolean): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${collector.url}/api/alerts${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const hook = await post('/destinations', { name: 'bench webhook', kind: 'webhook', url: `${receiverUrl}/hook` });
  const destinations = [hook.id];
  await post('/rules', { name: 'new', kind: 'new_group', destinations, muted });
  await post('/rules', { name: 'back', kind: 'regression', destinations, muted });
  await post('/rules', { name: 'stuck', kind: 'stuck_session', destinations, muted });
  await post('/rules', { name: 'rate', kind: 'error_rate', destinations, threshold: 1000, windowMs: 300_000, muted });
  await post('/rules', { name: 'runs', kind: 'session_state', destinations, states: ['error', 'stuck'], muted });
}

type Mode = 'off' | 'on' | 'muted';

async function ingestRun(storage: StorageName, mode: Mode, batches: TrafficBatch[], receiverUrl: string, tag: string): Promise<{ spansPerSecond: number; deliveries: number }> {
  const { store, drop } = await freshStore(storage, tag);
  const collector = await startCollector(testConfig({ port: 0, host: '127.0.0.1' }), { store });
  try {
    if (mode !== 'off') await withRules(collector, receiverUrl, mode === 'muted');
    let next = 0;
    const started = performance.now();
    const client = async () => {
      while (next < batches.length) {
        const b = batches[next++];
        for (;;) {
          // A kept-alive socket the server closed meanwhile: send again, as an OTLP exporter would.
          const res = await fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: b.body as BodyInit }).catch(() => null);
          if (!res) continue;
          await res.arrayBuffer();
          if (res.status === 200) break;
          if (res.status !== 429 && res.status !== 503) throw new Error(`ingest answered ${res.status}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    const seconds = (performance.now() - started) / 1000;
    const spans = batches.reduce((n, b) => n + b.spans, 0);
    const [{ n }] = await store.query<{ n: number }>('select count(*)::int as n from alert_deliveries');
    return { spansPerSecond: spans / seconds, deliveries: Number(n) };
  } finally {
    await collector.close();
    await drop();
  }
}

export async function runAlerts(report: Report, o: { quick: boolean; storages?: StorageName[] }): Promise<void> {
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    for (const storage of o.storages ?? (['postgres', 'pglite'] as const)) {
      const spans = o.quick ? { postgres: 20_000, pglite: 10_000 }[storage] : { postgres: 100_000, pglite: 40_000 }[storage];
      const batches = makeBatches(spans / 1000, 1000);
      const rounds = o.quick ? 1 : 3;
      const runs: Record<Mode, number[]> = { off: [], on: [], muted: [] };
      let deliveries = 0;
      const orders: Mode[][] = [['off', 'on', 'muted'], ['muted', 'on', 'off'], ['on', 'off', 'muted']];
      for (let r = 0; r < rounds; r++) {
        // Rotate the order so warm-up and drift fall on every side.
        for (const mode of orders[r % orders.length]) {
          const run = await ingestRun(storage, mode, batches, receiverUrl, `alerts_${r}_${mode}`);
          runs[mode].push(run.spansPerSecond);
          if (mode === 'on') deliveries = run.deliveries;
          console.log(`   ${storage} rules ${mode}: ${Math.round(run.spansPerSecond)} spans/s${mode === 'on' ? `, ${run.deliveries} deliveries made` : ''}`);
        }
      }
      const off = runs.off;
      const on = runs.on;
      const ratio = median(on) / median(off);
      report.add(`alerts.${storage}.ingestOff`, `ingest over HTTP, no alert rules (${storage})`, Math.round(median(off)), 'spans/s');
      report.add(`alerts.${storage}.ingestOn`, `ingest over HTTP, a rule of every kind (${storage})`, Math.round(median(on)), 'spans/s');
      report.add(`alerts.${storage}.ingestRatio`, `ingest with alert rules ÷ without (${storage})`, round(ratio, 3), '×');
      // Muted rules run every write-path hook (alert states, outbox checks) but send nothing: the cost inside the write transaction alone.
      report.add(`alerts.${storage}.hookRatio`, `ingest with the same rules muted ÷ without (${storage})`, round(median(runs.muted) / median(off), 3), '×');
      report.note(`alerts (${storage}): ${spans} spans, ${deliveries} deliveries made while ingesting with rules on; ${rounds} round(s) each, alternating.`);
    }
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
}
