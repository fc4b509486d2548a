/**
 * Malformed values at every route the app has (read from the app itself, so a new route is
 * covered the day it is added): NUL bytes, broken percent-encoding, impossible cursor dates,
 * absurd limits, huge and repeated parameters, bodies that are not what the route takes. A bad
 * value is the client's mistake: 4xx with the contract's envelope and a message, never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '@faultline/schema';
import { createApp } from '../app.ts';
import { STORAGES, startTestCollector } from '../testing.ts';
import type { RunningCollector } from '../server.ts';
import { AgentTelemetry, ago } from './agent-telemetry.ts';

const cursorOf = (t: string, id = 'x') => encodeCursor({ t, id });
const raw = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

/** Path parameter values: each must be a 4xx (404 for a well-formed id nobody has). */
const BAD_IDS = ['%00', 'a%00b', '%E0%A4%A', '%ED%A0%80', '%FF', 'x'.repeat(5000), '..%2F..%2Fetc%2Fpasswd', '%20', '%F0%9F%92%A5'];

/** Query values thrown at every parameter name any route reads. */
const BAD_VALUES = [
  '%00',
  'a%00b',
  '%E0%A4%A',
  '',
  '-1',
  '1.5',
  '1e400',
  '99999999999999999999999999',
  'x'.repeat(20_000),
  // Impossible instants in well-formed cursors, and cursors that are not ours.
  cursorOf('2024-02-30T00:00:00Z'),
  cursorOf('2024-01-01T24:00:00Z'),
  cursorOf('0000-01-01T00:00:00Z'),
  cursorOf('2024-01-01T00:00:00Z', 'id\u0000nul'),
  raw([42, 'x']),
  '!!!not-base64!!!',
];

const PARAMS = ['limit', 'cursor', 'state', 'stuck', 'failed', 'code', 'service', 'q', 'category', 'session', 'fingerprint', 'status', 'window', 'kind', 'token'];

/** Bodies no route takes as valid (so no scenario run starts). */
const BAD_BODIES: { body: string; type?: string }[] = [
  { body: '{' },
  { body: 'not json at all' },
  { body: 'null' },
  { body: '[]' },
  { body: '42' },
  { body: '"status"' },
  { body: '{"status":"nope","id":"\\u0000","ids":"x","scenarioId":"\\u0000"}' },
  { body: '{"status":null,"id":42,"ids":[null],"scenarioId":null,"passed":"yes"}' },
  { body: `{"status":"${'x'.repeat(100_000)}","id":"${'y'.repeat(100_000)}"}` },
  { body: '{"status":"resolved","id":"sandbox-config-missing"}', type: 'text/plain' },
  { body: `${'['.repeat(5000)}${']'.repeat(5000)}` },
  { body: '\u0000\u0001\u0002' },
];

describe.each(STORAGES)('every API route refuses malformed input with a 4xx on $name', (storage) => {
  let collector: RunningCollector;
  let app: ReturnType<typeof createApp>;
  const answers = new Map<number, number>();

  beforeAll(async () => {
    collector = await startTestCollector(storage, { sweepIntervalMs: 600_000 });
    // Some data, so filters and path ids reach the database rather than an empty table.
    const t = new AgentTelemetry(collector.url);
    t.status('sess-input', 'running', ago(5));
    t.billingError('sess-input', ago(4), ago(4, 500));
    await t.flush();
    await t.shutdown();
    app = createApp(collector.deps);
  });
  afterAll(async () => collector?.close());

  async function call(method: string, path: string, init: { body?: string; type?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
    const res = await app.request(path, { method, headers, body: init.body });
    answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
    return res;
  }

  async function expectClientError(res: Response, what: string) {
    const text = await res.text();
    expect(res.status, `${what} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
    if (res.status >= 400) {
      const body = JSON.parse(text) as { error: { code: string; message: string; requestId?: string } };
      expect(body.error.message.length, what).toBeGreaterThan(5);
      expect(body.error.requestId, what).toBe(res.headers.get('x-request-id'));
    }
  }

  const routes = () =>
    app.routes.filter((r) => r.method !== 'ALL' && (r.path.startsWith('/api/') || r.path === '/healthz' || r.path === '/metrics') && r.path !== '/api/stream');

  it('reads its routes from the app: every resource of the API is there', () => {
    const paths = new Set(routes().map((r) => `${r.method} ${r.path}`));
    for (const p of ['GET /api/sessions', 'GET /api/sessions/:id', 'GET /api/sessions/:id/latest', 'GET /api/codes/:code', 'GET /api/errors', 'PATCH /api/groups/:fingerprint', 'POST /api/scenarios/run']) {
      expect(paths).toContain(p);
    }
  });

  it('NUL bytes, broken encodings and huge values in path ids: 4xx', async () => {
    for (const r of routes().filter((x) => x.path.includes('/:'))) {
      for (const id of BAD_IDS) {
        const path = r.path.replace(/:[a-zA-Z]+/g, id);
        const body = r.method === 'GET' ? undefined : '{"status":"resolved"}';
        await expectClientError(await call(r.method, path, { body }), `${r.method} ${path.slice(0, 80)}`);
      }
    }
  });

  it('bad values for every query parameter on every route: 4xx, and a 400 names the parameter', async () => {
    const checks: (() => Promise<void>)[] = [];
    for (const r of routes().filter((x) => x.method === 'GET')) {
      const path = r.path.replace(/:[a-zA-Z]+/g, 'sess-input');
      for (const param of PARAMS) {
        for (const value of BAD_VALUES) {
          checks.push(async () => {
            const res = await call('GET', `${path}?${param}=${value}`);
            const what = `GET ${path}?${param}=${value.slice(0, 60)}`;
            if (res.status === 400) {
              const body = (await res.clone().json()) as { error: { code: string; message: string } };
              expect(body.error.code, what).toBe('invalid_request');
              expect(body.error.message, what).toContain(param);
            }
            await expectClientError(res, what);
          });
        }
        // The same parameter twice.
        checks.push(async () => expectClientError(await call('GET', `${path}?${param}=a&${param}=b`), `GET ${path}?${param}=a&${param}=b`));
      }
    }
    // A few requests in flight at a time, as a dashboard with several tabs would send them.
    for (let i = 0; i < checks.length; i += 8) await Promise.all(checks.slice(i, i + 8).map((check) => check()));
    // ~7,000 requests: 25–40 s alone, twice that on a busy two-core machine.
  }, 240_000);

  it('bodies that are not what the route takes: 4xx with words saying what to send', async () => {
    for (const r of routes().filter((x) => x.method === 'POST' || x.method === 'PATCH')) {
      const path = r.path.replace(/:[a-zA-Z]+/g, 'no-such-thing');
      for (const b of BAD_BODIES) {
        const res = await call(r.method, path, b);
        await expectClientError(res, `${r.method} ${path} ${b.body.slice(0, 40)}`);
        expect(res.status, `${r.method} ${path} ${b.body.slice(0, 40)}`).not.toBe(202);
      }
    }
    expect(collector.deps.store.kind).toBe(storage.name);
  });

  it('the specific cases a user met: NUL in a filter or an id, an impossible cursor date, an absurd limit', async () => {
    const cases: [string, string][] = [
      ['/api/sessions?service=a%00b', 'service: must not contain a NUL character'],
      ['/api/errors?session=%00', 'session: must not contain a NUL character'],
      ['/api/sessions/a%00b', 'id: must not contain a NUL character'],
      [`/api/sessions?cursor=${cursorOf('2024-02-30T00:00:00Z')}`, 'cursor: is not a cursor from this API'],
      [`/api/errors?cursor=${cursorOf('2024-01-01T00:00:00Z', 'a\u0000')}`, 'cursor: is not a cursor from this API'],
      ['/api/sessions?limit=1e400', 'limit: must be a whole number from 1 to 500'],
      ['/api/groups?limit=99999999999999999999', 'limit: must be a whole number from 1 to 1000'],
      ['/api/errors?limit=501', 'limit: must be at most 500'],
    ];
    for (const [path, message] of cases) {
      const res = await call('GET', path);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, path).toBe(400);
      expect(body.error, path).toMatchObject({ code: 'invalid_request', message: expect.stringContaining(message) });
    }
    console.log(`malformed input (${storage.name}): answers by status ${JSON.stringify(Object.fromEntries([...answers].sort()))}`);
    expect([...answers.keys()].filter((s) => s >= 500)).toEqual([]);
  });
});
