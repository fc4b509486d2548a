/**
 * One definition of the session filters: the list the server answers and the contract's
 * `sessionMatches` (what the dashboard uses to keep a live list) agree. `q` is a session id
 * prefix, never a substring; `code=` is any hit of the code, not only the last error — a session
 * whose last error is the code always matches, and the server also finds earlier hits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionMatches, type Page, type Session, type SessionFilter } from '@faultline/schema';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { AgentTelemetry, ago, getJson } from './agent-telemetry.ts';

describe.each(STORAGES)('session filters on $name: server and contract agree', (storage) => {
  let collector: RunningCollector;
  let all: Session[];
  const ids = async (query: string) => {
    const { status, body } = await getJson<Page<Session>>(`${collector.url}/api/sessions?${query}&limit=500`);
    expect(status, query).toBe(200);
    return body.items.map((s) => s.id);
  };

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    const t = new AgentTelemetry(collector.url);
    t.status('run-alpha', 'running', ago(30), { service: 'coder' });
    t.status('run-beta', 'waiting_input', ago(29), { service: 'coder' });
    // A billing error, then a timeout: billing is no longer the last error.
    t.status('job-billing-then-timeout', 'running', ago(28), { service: 'worker' });
    t.billingError('job-billing-then-timeout', ago(27), ago(27, 100), { service: 'worker' });
    t.timeout('job-billing-then-timeout', 'heartbeat', 'AGT-TIMEOUT-HEARTBEAT', ago(26), { service: 'worker' });
    t.status('job-billing-then-timeout', 'error', ago(25, 500), { service: 'worker' });
    t.status('job-billing', 'running', ago(24), { service: 'worker' });
    t.billingError('job-billing', ago(23), ago(23, 100), { service: 'worker' });
    t.status('job-billing', 'error', ago(22), { service: 'worker' });
    t.billingError('no-state-billing', ago(21), ago(21, 100));
    t.status('xrun-alphabet', 'completed', ago(20));
    await t.flush();
    await t.shutdown();
    all = (await getJson<Page<Session>>(`${collector.url}/api/sessions?limit=500`)).body.items;
    expect(all).toHaveLength(6);
  });
  afterAll(async () => collector?.close());

  const exact: [string, Partial<SessionFilter>][] = [
    ['state=waiting_input', { state: 'waiting_input' }],
    ['failed=true', { failed: true }],
    ['failed=false', { failed: false }],
    ['stuck=false', { stuck: false }],
    ['service=worker', { service: 'worker' }],
    ['q=run-', { q: 'run-' }],
    ['q=job-billing', { q: 'job-billing' }],
    ['q=alpha', { q: 'alpha' }],
    ['service=coder&q=run-a', { service: 'coder', q: 'run-a' }],
    ['active=true', { active: true }],
    ['active=false', { active: false }],
    ['window=1h', { window: '1h' }],
    ['failed=true&window=1h', { failed: true, window: '1h' }],
    ['includeTest=true', { includeTest: true }],
  ];

  it.each(exact)('%s: the same sessions from the server and from sessionMatches', async (query, filter) => {
    expect(await ids(query)).toEqual(all.filter((s) => sessionMatches(filter, s)).map((s) => s.id));
  });

  it('q is a prefix of the session id: "alpha" finds neither run-alpha nor xrun-alphabet, "run-" not xrun-alphabet', async () => {
    expect(await ids('q=alpha')).toEqual([]);
    expect(await ids('q=run-')).toEqual(['run-beta', 'run-alpha']);
    expect(await ids('q=xrun')).toEqual(['xrun-alphabet']);
  });

  it('code= lists every session that hit the code; sessionMatches accepts those whose last error it is, never one the server leaves out', async () => {
    const billing = await ids('code=AGT-PROVIDER-BILLING');
    expect(billing).toEqual(['no-state-billing', 'job-billing', 'job-billing-then-timeout']);
    const live = all.filter((s) => sessionMatches({ code: 'AGT-PROVIDER-BILLING' }, s)).map((s) => s.id);
    expect(live).toEqual(['no-state-billing', 'job-billing']);
    for (const id of live) expect(billing).toContain(id);
    // Its last error is the timeout; it still counts as a billing hit on the server.
    expect(all.find((s) => s.id === 'job-billing-then-timeout')?.lastError?.code).toBe('AGT-TIMEOUT-HEARTBEAT');
    expect(await ids('code=AGT-TIMEOUT-HEARTBEAT')).toEqual(['job-billing-then-timeout']);
  });
});
