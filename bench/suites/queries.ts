/**
 * Query cost (DESIGN §8): the API the dashboard uses, through the real Hono app (`app.request`,
 * no socket), on Postgres seeded with SQL `generate_series` at 100k spans / 10k sessions, then
 * grown to 1M spans / 100k sessions in the same database, ANALYZE after each seeding.
 *
 * History grows at a constant rate (one session every 12 s, ten spans each, so 100k sessions is
 * the 14-day retention): the larger data set is ten times more history, not ten times more
 * traffic per hour. "Cost must not grow with history" is then: the same request costs about the
 * same at both sizes. Half the sessions have one error span (5 % of spans), 5 % end in `error`,
 * and among the newest 2000 sessions some are running, starting or stuck.
 */
import { testConfig } from '../../collector/src/config.ts';
import { createApp } from '../../collector/src/app.ts';
import { EventBus } from '../../collector/src/events.ts';
import { RequestPreparer } from '../../collector/src/ingest/prepare.ts';
import { StorageHealth } from '../../collector/src/store/health.ts';
import { IngestPipeline } from '../../collector/src/ingest/pipeline.ts';
import { AlertRuntime } from '../../collector/src/alerts/runtime.ts';
import { postgresStore, type Store } from '../../collector/src/store/db.ts';
import { createBenchDatabase } from '../lib/env.ts';
import { Report, atMost } from '../lib/report.ts';
import { percentile, round } from '../lib/stats.ts';

const SESSION_EVERY_S = 12;
const CODES = [
  ['AGT-PROVIDER-BILLING', 'provider', null],
  ['AGT-PROVIDER-RATE-LIMIT', 'provider', null],
  ['AGT-PROVIDER-OVERLOADED', 'provider', null],
  ['AGT-TIMEOUT-HEARTBEAT', 'timeout', 'heartbeat'],
  ['AGT-TIMEOUT-START-TO-CLOSE', 'timeout', 'start_to_close'],
  ['AGT-SANDBOX-CREATE-FAILED', 'sandbox', null],
  ['AGT-WORKER-EXECUTION-FAILED', 'worker', null],
  ['AGT-TOOL-FAILED', 'tool', null],
] as const;

const codeCase = (i: string, field: 0 | 1 | 2) =>
  `(array[${CODES.map((c) => (c[field] === null ? 'null' : `'${c[field]}'`)).join(',')}]::text[])[(${i} % ${CODES.length}) + 1]`;

/** Sessions [from, to): session i was last seen i × 12 s ago. */
async function seed(store: Store, from: number, to: number): Promise<void> {
  const lastSeen = `now() - make_interval(secs => i * ${SESSION_EVERY_S})`;
  const state = `case when i < 2000 and i % 50 = 0 then 'running' when i < 2000 and i % 50 = 1 then 'running'
    when i < 2000 and i % 50 = 2 then 'starting' when i % 20 = 3 then 'error' else 'completed' end`;
  await store.query(`
    insert into sessions (id, service, agent, provider, model, state, status_message, state_at, stuck, stuck_kind, stuck_since,
      last_error_code, last_error_category, last_error_message, last_error_at, started_at, last_seen_at, ended_at,
      error_count, span_count, last_trace_id)
    select 'sess-' || lpad(i::text, 8, '0'), 'agent-runtime-' || (i % 4), 'planner', 'anthropic', 'claude-sonnet-4', st,
      case when st = 'error' then 'The provider refused the request.' end, ls,
      i < 2000 and i % 50 = 0, case when i < 2000 and i % 50 = 0 then 'running_silent' end, case when i < 2000 and i % 50 = 0 then ls + interval '60 s' end,
      case when i % 2 = 0 then ${codeCase('i', 0)} end, case when i % 2 = 0 then ${codeCase('i', 1)} end,
      case when i % 2 = 0 then 'Something went wrong with the provider.' end, case when i % 2 = 0 then ls - interval '40 s' end,
      ls - interval '180 s', ls, case when st in ('completed', 'error') then ls end,
      case when i % 2 = 0 then 1 else 0 end, 10, md5('t' || i)
    from (select i, ${lastSeen} as ls, ${state} as st from generate_series(${from}, ${to - 1}) as i) s`);
  await store.query(`
    insert into spans (trace_id, span_id, parent_span_id, session_id, service, name, span_type, kind, start_time, end_time,
      duration_ms, status_code, status_message, error_code, attributes, events, resource)
    select md5('t' || i), substr(md5('s' || i || '-' || j), 1, 16), case when j > 0 then substr(md5('s' || i || '-0'), 1, 16) end,
      'sess-' || lpad(i::text, 8, '0'), 'agent-runtime-' || (i % 4),
      case when j in (0, 1, 9) then 'faultline.session.status' when j in (4, 6) then 'faultline.session.heartbeat'
        when j = 8 then 'invoke_agent planner' else 'execute_tool web_fetch' end,
      case when j in (0, 1, 9) then 'status' when j in (4, 6) then 'heartbeat' when j = 8 then 'turn' else 'tool' end,
      1, ls - make_interval(secs => (9 - j) * 20), ls - make_interval(secs => (9 - j) * 20) + interval '120 ms', 120,
      case when j = 7 and i % 2 = 0 then 2 else 0 end,
      case when j = 7 and i % 2 = 0 then 'request failed' end,
      case when j = 7 and i % 2 = 0 then ${codeCase('i', 0)} end,
      jsonb_build_object('session.id', 'sess-' || lpad(i::text, 8, '0'), 'gen_ai.agent.name', 'planner',
        'gen_ai.provider.name', 'anthropic', 'gen_ai.request.model', 'claude-sonnet-4', 'faultline.session.state',
        case when j = 0 then 'starting' when j = 1 then 'running' else 'completed' end),
      '[]'::jsonb, jsonb_build_object('service.name', 'agent-runtime-' || (i % 4))
    from (select i, ${lastSeen} as ls from generate_series(${from}, ${to - 1}) as i) s, generate_series(0, 9) as j`);
  await store.query(`
    insert into errors (id, at, session_id, trace_id, span_id, service, code, category, message, technical_message,
      exception_type, fingerprint, timeout_kind, http_status, retryable, attributes)
    select md5('t' || i) || ':' || substr(md5('s' || i || '-7'), 1, 16), ls - interval '40 s', 'sess-' || lpad(i::text, 8, '0'),
      md5('t' || i), substr(md5('s' || i || '-7'), 1, 16), 'agent-runtime-' || (i % 4), ${codeCase('i', 0)}, ${codeCase('i', 1)},
      'Something went wrong with the provider.', 'request failed (request ' || i || ')', 'APIError', 'fp-' || (i % 200),
      ${codeCase('i', 2)}, 502, 'once', '{}'::jsonb
    from (select i, ${lastSeen} as ls from generate_series(${from}, ${to - 1}) as i) s where i % 2 = 0`);
  await store.query(`
    insert into error_groups (fingerprint, code, category, exception_type, sample_message, first_seen, last_seen, count)
    select fingerprint, min(code), min(category), 'APIError', 'request failed', min(at), max(at), count(*) from errors group by fingerprint
    on conflict (fingerprint) do update set first_seen = excluded.first_seen, last_seen = excluded.last_seen, count = excluded.count`);
  await store.query('analyze');
}

const QUERIES: [key: string, label: string, path: (rand: () => number, sessions: number) => string][] = [
  ['overview', 'overview (24h)', () => '/api/overview'],
  ['sessionsList', 'sessions list', () => '/api/sessions'],
  ['sessionsStuck', 'sessions: stuck', () => '/api/sessions?stuck=true'],
  ['sessionsFailed', 'sessions: failed', () => '/api/sessions?failed=true'],
  ['sessionsByCode', 'sessions: by code', () => '/api/sessions?code=AGT-PROVIDER-BILLING'],
  ['sessionDetail', 'session detail (timeline)', (rand, n) => `/api/sessions/sess-${String(Math.floor(rand() * n)).padStart(8, '0')}`],
];

async function measure(store: Store, sessions: number, calls: number): Promise<Record<string, { p50: number; p95: number }>> {
  const config = testConfig();
  const pipeline = new IngestPipeline(store, config);
  const preparer = new RequestPreparer({ limits: config.otlpLimits });
  const health = new StorageHealth(store.kind, null, { probeTimeoutMs: config.dbProbeTimeoutMs });
  const app = createApp({
    config, store, pipeline, preparer, events: new EventBus(), health, lifecycle: { draining: false, inFlight: 0 },
    metrics: { stuckFlagged: 0, sweeps: 0, retentionDeleted: 0, checkpoints: 0, vacuums: 0 },
    alerts: new AlertRuntime(store, config, { worker: false }),
  });
  let seedValue = 42;
  const rand = () => ((seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const samples: Record<string, number[]> = Object.fromEntries(QUERIES.map(([k]) => [k, []]));
  const call = async (path: string) => {
    const t0 = performance.now();
    const res = await app.request(path);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return performance.now() - t0;
  };
  for (const [, , path] of QUERIES) for (let i = 0; i < 10; i++) await call(path(rand, sessions)); // warm-up
  // Interleaved, so load from elsewhere on the machine hits every query alike.
  for (let i = 0; i < calls; i++) for (const [key, , path] of QUERIES) samples[key].push(await call(path(rand, sessions)));
  await pipeline.close();
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { p50: percentile(v, 50), p95: percentile(v, 95) }]));
}

export async function runQueries(report: Report, o: { quick: boolean }): Promise<void> {
  const small = o.quick ? 2_000 : 10_000;
  const large = o.quick ? 20_000 : 100_000;
  const calls = o.quick ? 40 : 150;
  const db = await createBenchDatabase('queries');
  const store = postgresStore(db.url, { max: 10 });
  try {
    await store.migrate();
    let t = Date.now();
    await seed(store, 0, small);
    console.log(`queries: seeded ${small * 10} spans / ${small} sessions in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const atSmall = await measure(store, small, calls);
    t = Date.now();
    await seed(store, small, large);
    console.log(`queries: grew to ${large * 10} spans / ${large} sessions in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const atLarge = await measure(store, large, calls);
    const sizeS = `${small / 1000}k sessions`;
    const sizeL = `${large / 1000}k sessions`;
    for (const [key, label] of QUERIES) {
      const s = atSmall[key];
      const l = atLarge[key];
      report.add(`queries.${key}.small.p50Ms`, `${label} p50 @ ${sizeS}`, round(s.p50, 1), 'ms');
      report.add(`queries.${key}.small.p95Ms`, `${label} p95 @ ${sizeS}`, round(s.p95, 1), 'ms');
      report.add(`queries.${key}.large.p50Ms`, `${label} p50 @ ${sizeL}`, round(l.p50, 1), 'ms');
      report.add(`queries.${key}.large.p95Ms`, `${label} p95 @ ${sizeL}`, round(l.p95, 1), 'ms', atMost(round(l.p95, 1), 50));
      const ratio = round(l.p95 / s.p95, 2);
      report.add(`queries.${key}.p95GrowthRatio`, `${label} p95 ${sizeL} / ${sizeS}`, ratio, '×', atMost(ratio, 1.5));
    }
  } finally {
    await store.close();
    await db.drop();
  }
}
