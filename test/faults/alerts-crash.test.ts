/**
 * Alert delivery across crashes and across collectors, with real collector processes:
 *  - killed with SIGKILL after the commit, one notification still in its grouping window and one
 *    in flight to a receiver that had not answered: after a restart both arrive, the one in flight
 *    again under the same delivery id (the receiver drops the repeat), nothing else twice;
 *  - two collectors on one Postgres, a runtime sending to both: each session change and the one
 *    new-group alert reach the receiver exactly once, whichever collector saw the span.
 */
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { init } from '@faultline/sdk';
import { AlertmanagerWebhookShape, SessionWebhookShape } from '@faultline/schema/api';
import { startReceiver, type Receiver } from '../../collector/src/alerts/test-receiver.ts';
import { openPglite } from '../../collector/src/store/db.ts';
import { BadRequestError } from '../../examples/simulated-failures.ts';
import { freePort, freshPostgresDatabase, hex, reportFigures, sleep, startCollectorProcess, tempDir, type CollectorProcess } from './support.ts';

const running = new Set<CollectorProcess>();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of running) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  for (const c of cleanups) await c();
});

async function start(env: Record<string, string>, port?: number): Promise<CollectorProcess> {
  const c = await startCollectorProcess(env, { port });
  running.add(c);
  void c.exited.then(() => running.delete(c));
  return c;
}

function alertsFile(receiverUrl: string, groupWaitMs: number): string {
  const dir = tempDir('alerts-file');
  const file = path.join(dir, 'alerts.yaml');
  fs.writeFileSync(
    file,
    [
      'destinations:',
      '  - id: receiver',
      '    kind: webhook',
      `    url: ${receiverUrl}/hook`,
      'rules:',
      '  - id: new-problems',
      '    kind: new_group',
      `    groupWaitMs: ${groupWaitMs}`,
      '    destinations: [receiver]',
      '  - id: failed-runs',
      '    kind: session_state',
      '    states: [error]',
      '    destinations: [receiver]',
      '',
    ].join('\n'),
  );
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return file;
}

async function failSessions(endpoint: string, service: string, ids: string[]): Promise<void> {
  const faultline = init({ serviceName: service, endpoint, heartbeatIntervalMs: 0, scheduledDelayMillis: 50, spoolDir: tempDir('alerts-spool') });
  for (const id of ids) {
    const session = faultline.startSession({ id, agent: 'assistant', provider: 'anthropic', model: 'claude-sonnet-4-5' });
    session.status('running');
    session.fail(new BadRequestError());
  }
  await faultline.shutdown();
}

interface Target {
  name: 'pglite' | 'postgres';
  env: Record<string, string>;
  deliveries(): Promise<{ id: string; status: string; attempts: number }[]>;
}

async function pgliteTarget(): Promise<Target> {
  const dir = tempDir('alerts-pglite');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    name: 'pglite',
    env: { FAULTLINE_DATA_DIR: dir },
    async deliveries() {
      const store = await openPglite(dir);
      try {
        return await store.query('select id, status, attempts from alert_deliveries order by created_at');
      } finally {
        await store.close();
      }
    },
  };
}

async function postgresTarget(label: string): Promise<Target> {
  const db = await freshPostgresDatabase(process.env.DATABASE_URL!, label);
  cleanups.push(() => db.drop());
  return {
    name: 'postgres',
    env: { DATABASE_URL: db.url },
    async deliveries() {
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        return [...(await sql<{ id: string; status: string; attempts: number }[]>`select id, status, attempts from alert_deliveries order by created_at`)];
      } finally {
        await sql.end();
      }
    },
  };
}

const targets: (() => Promise<Target>)[] = [pgliteTarget, ...(process.env.DATABASE_URL ? [() => postgresTarget('alerts_crash')] : [])];

describe.each(targets.map((make, i) => ({ make, name: i === 0 ? 'pglite' : 'postgres' })))('collector killed with SIGKILL before its alerts went out ($name)', ({ make }) => {
  it('delivers after restart: the grouped alert once, the one in flight again under the same delivery id', async () => {
    const target = await make();
    let hung = false;
    // The first request never gets an answer: the collector dies while it is in flight.
    const receiver: Receiver = await startReceiver(() => {
      if (!hung) {
        hung = true;
        return { status: 200, delayMs: Infinity };
      }
      return { status: 200, body: 'ok' };
    });
    cleanups.push(() => receiver.close());
    const env = { ...target.env, FAULTLINE_ALERTS: alertsFile(receiver.url, 4000), FAULTLINE_DELIVERY_TIMEOUT_MS: '2000' };
    const port = await freePort();
    const first = await start(env, port);
    const service = `crash-alerts-${hex(3)}`;
    await failSessions(first.url, service, [`${service}-s1`]);
    // Committed (the SDK's export was acknowledged); the session webhook is on its way, the new-group alert waits out its window.
    await receiver.waitFor(1, 20_000);
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await first.exited;

    await start(env, port);
    await receiver.waitFor(3, 30_000);
    await sleep(1500);
    const recovered = Date.now() - killedAt;
    const sessionRequests = receiver.received.filter((r) => (r.json as { type?: string }).type === 'faultline.session.changed');
    expect(sessionRequests).toHaveLength(2);
    expect(sessionRequests[0].deliveryId).toBe(sessionRequests[1].deliveryId);
    expect(SessionWebhookShape.parse(sessionRequests[1].json)).toMatchObject({ event: 'error', session: { id: `${service}-s1` } });
    const alerts = receiver.received.filter((r) => r.json && (r.json as { version?: string }).version === '4');
    expect(alerts).toHaveLength(1);
    expect(AlertmanagerWebhookShape.parse(alerts[0].json).alerts[0].labels).toMatchObject({ code: 'AGT-PROVIDER-BILLING', service });
    expect(receiver.received).toHaveLength(3);
    for (const c of running) await c.stop();
    const log = await target.deliveries();
    expect(log.map((d) => [d.status, d.attempts]).sort()).toEqual([['sent', 1], ['sent', 2]]);
    reportFigures(`alerts-crash-${target.name}`, { killToAllDeliveredMs: recovered });
  });
});

describe.runIf(process.env.DATABASE_URL)('two collectors on one Postgres', () => {
  it('each alert and session change is sent by exactly one of them', async () => {
    const target = await postgresTarget('alerts_two');
    const receiver = await startReceiver(() => ({ status: 200, body: 'ok', delayMs: 30 }));
    cleanups.push(() => receiver.close());
    const env = { ...target.env, FAULTLINE_ALERTS: alertsFile(receiver.url, 1000) };
    const [a, b] = await Promise.all([start(env), start(env)]);
    const service = `two-alerts-${hex(3)}`;
    const ids = Array.from({ length: 40 }, (_, i) => `${service}-s${i}`);
    // Both collectors ingest at once, alternating sessions between them.
    await Promise.all([failSessions(a.url, service, ids.filter((_, i) => i % 2 === 0)), failSessions(b.url, service, ids.filter((_, i) => i % 2 === 1))]);
    await receiver.waitFor(41, 60_000);
    await sleep(3000);
    const sessions = receiver.received.filter((r) => (r.json as { type?: string }).type === 'faultline.session.changed').map((r) => SessionWebhookShape.parse(r.json).session.id);
    expect(sessions.sort()).toEqual([...ids].sort());
    const groups = receiver.received.filter((r) => (r.json as { version?: string }).version === '4');
    expect(groups).toHaveLength(1);
    expect(new Set(receiver.received.map((r) => r.deliveryId)).size).toBe(receiver.received.length);
    await Promise.all([a.stop(), b.stop()]);
    const log = await target.deliveries();
    expect(log).toHaveLength(41);
    expect(log.every((d) => d.status === 'sent' && d.attempts === 1)).toBe(true);
    reportFigures('alerts-two-collectors', { sessions: ids.length, deliveries: receiver.received.length });
  });
});
