import { afterEach, describe, expect, it } from 'vitest';
import { STORAGES } from '../testing.ts';
import type { Store } from './db.ts';
import { deleteExpired } from './retention.ts';

describe.each(STORAGES)('retention on $name', (storage) => {
  let store: Store | undefined;
  afterEach(async () => store?.close());

  it('deletes spans, occurrences, sessions, emptied groups and scenario runs past the window and keeps group counts and recent sessions', async () => {
    store = await storage.create();
    const day = 86_400_000;
    const now = new Date('2026-06-30T12:00:00Z');
    const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * day).toISOString();
    for (const [i, daysAgo] of [[1, 20], [2, 15], [3, 13], [4, 0]] as const) {
      await store.query(
        `insert into spans (trace_id, span_id, service, name, span_type, kind, start_time, end_time, duration_ms, status_code, attributes, events, resource, session_id)
         values ($1, $2, 'svc', 'x', 'span', 1, $3, $3, 0, 2, '{}', '[]', '{}', 's1')`,
        ['a'.repeat(31) + i, 'b'.repeat(15) + i, at(daysAgo)],
      );
      await store.query(
        `insert into errors (id, at, session_id, service, code, category, message, fingerprint, retryable, attributes)
         values ($1, $2, 's1', 'svc', 'AGT-PROVIDER-BILLING', 'provider', 'out of credits', 'fp1', 'no', '{}')`,
        [`e${i}`, at(daysAgo)],
      );
    }
    await store.query(
      `insert into error_groups (fingerprint, code, category, sample_message, first_seen, last_seen, count) values ('fp1', 'AGT-PROVIDER-BILLING', 'provider', 'x', $1, $2, 4)`,
      [at(20), at(0)],
    );
    // A group whose every occurrence is past the window, one with a stray recent occurrence, old and new scenario runs.
    await store.query(
      `insert into error_groups (fingerprint, code, category, sample_message, first_seen, last_seen, count) values
        ('fp-gone', 'AGT-PROVIDER-RATE-LIMIT', 'provider', 'x', $1, $2, 7), ('fp-stray', 'AGT-PROVIDER-RATE-LIMIT', 'provider', 'x', $1, $2, 2)`,
      [at(30), at(16)],
    );
    await store.query(
      `insert into errors (id, at, service, code, category, message, fingerprint, retryable, attributes) values
        ('g1', $1, 'svc', 'AGT-PROVIDER-RATE-LIMIT', 'provider', 'slow down', 'fp-gone', 'yes', '{}'),
        ('g2', $2, 'svc', 'AGT-PROVIDER-RATE-LIMIT', 'provider', 'slow down', 'fp-stray', 'yes', '{}')`,
      [at(16), at(1)],
    );
    await store.query(`insert into scenario_runs (scenario_id, passed, detail, at) values ('billing', true, 'old', $1), ('billing', true, 'new', $2)`, [at(15), at(1)]);
    await store.query(`insert into sessions (id, service, started_at, last_seen_at) values ('s1', 'svc', $1, $2)`, [at(20), at(0)]);
    await store.query(`insert into sessions (id, service, started_at, last_seen_at) values ('old', 'svc', $1, $2)`, [at(30), at(15)]);

    const deleted = await deleteExpired(store, 14, now);

    // two spans, three occurrences, one session, the emptied group and the old scenario run
    expect(deleted).toBe(8);
    const spans = await store.query<{ n: number }>('select count(*)::int as n from spans');
    const errors = await store.query<{ id: string }>('select id from errors order by id');
    expect(spans[0].n).toBe(2);
    expect(errors.map((e) => e.id)).toEqual(['e3', 'e4', 'g2']);
    expect(await store.query('select fingerprint from error_groups order by fingerprint')).toEqual([{ fingerprint: 'fp-stray' }, { fingerprint: 'fp1' }]);
    expect(await store.query('select detail from scenario_runs')).toEqual([{ detail: 'new' }]);
    const [group] = await store.query<{ count: number }>(`select count from error_groups where fingerprint = 'fp1'`);
    expect(group.count).toBe(4);
    expect(await store.query(`select id from sessions`)).toEqual([{ id: 's1' }]);
  });
});
