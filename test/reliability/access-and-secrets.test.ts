/**
 * Access and secrets (DESIGN §9), on every storage: ingest and API refuse missing or wrong keys;
 * SQL-injection-shaped values on every API filter change nothing and never cause a 500; secrets
 * sent in messages, stack traces, attributes, events and resources never reach any table or any
 * API answer; and a collector asked to listen on a public interface without keys refuses to start.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES, startTestCollector } from '../../collector/src/testing.ts';
import type { RunningCollector } from '../../collector/src/server.ts';
import { MAIN, ROOT, hex, otlpBody, otlpSpan, postTraces, reportFigures } from '../faults/support.ts';

const INGEST_KEY = 'ingest-key-0123456789abcdef';
const API_TOKEN = 'api-token-0123456789abcdef';
const auth = { authorization: `Bearer ${INGEST_KEY}` };
const api = { authorization: `Bearer ${API_TOKEN}` };

// The secret part of each value; none of these strings may be stored or served.
const SECRETS = {
  openai: 'sk-proj-A1b2C3d4E5f6G7h8I9j0KlMnOpQr',
  anthropic: 'sk-ant-api03-x9Y8z7W6v5U4t3S2r1Q0pOnMlKjIh',
  bearer: 'b3ar3rT0k3nV4lu3xQzW9yP2',
  urlPassword: 'Hunt3r2SuperSecret',
  apiKeyParam: 'qWeRtY123456uIoP7890',
  headerValue: 'c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M',
};

function secretSpans(sessionId: string, traceId: string) {
  const s = SECRETS;
  return [
    otlpSpan({
      traceId,
      sessionId,
      name: 'faultline.session.status',
      attributes: {
        'faultline.session.state': 'running',
        'faultline.session.status_message': `Calling provider with key ${s.openai}`,
        'db.connection_string': `postgres://admin:${s.urlPassword}@db.internal:5432/app`,
      },
    }),
    otlpSpan({
      traceId,
      sessionId,
      name: 'invoke_agent coder',
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'faultline.output.text': `Here is your config: ANTHROPIC_API_KEY=${s.anthropic}`,
        'http.request.header.authorization': `Basic ${s.headerValue}`,
        'openai.api_key': s.apiKeyParam,
        'http.url': `https://api.example.com/v1/chat?api_key=${s.apiKeyParam}&model=x`,
      },
      error: {
        type: 'AuthenticationError',
        message: `401 Unauthorized: invalid x-api-key ${s.anthropic} (Authorization: Bearer ${s.bearer}) for https://user:${s.urlPassword}@proxy.example.com`,
      },
    }),
    otlpSpan({
      traceId,
      sessionId,
      name: 'faultline.session.heartbeat',
      attributes: { 'faultline.heartbeat.phase': `fetching with token=${s.bearer}`, 'faultline.heartbeat.note': `using ${s.openai}` },
    }),
  ];
}

describe.each(STORAGES)('access and secrets ($name)', (storage) => {
  let collector: RunningCollector;
  const sessionId = `secrets-${hex(4)}`;
  const traceId = hex(16);

  beforeAll(async () => {
    collector = await startTestCollector(storage, { ingestKeys: [INGEST_KEY], apiToken: API_TOKEN });
    const r = await postTraces(collector.url, otlpBody(secretSpans(sessionId, traceId), 'secrets-service', { 'deployment.token': SECRETS.bearer, 'service.note': `key ${SECRETS.openai}` }), auth);
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    await collector?.close();
  });

  it('refuses ingest and API calls without a key or with a wrong one (401), and accepts the right ones', async () => {
    const body = otlpBody([otlpSpan({ sessionId: `${sessionId}-auth` })]);
    expect((await postTraces(collector.url, body)).status).toBe(401);
    expect((await postTraces(collector.url, body, { authorization: 'Bearer wrong-key-0123456789abcdef' })).status).toBe(401);
    expect((await postTraces(collector.url, body, { 'x-faultline-key': `${INGEST_KEY}x` })).status).toBe(401);
    expect((await postTraces(collector.url, body, { authorization: `Bearer ${API_TOKEN}` })).status).toBe(401);
    expect((await postTraces(collector.url, body, { 'content-type': 'application/x-protobuf' })).status).toBe(401);
    // Nothing from the refused requests was stored.
    expect(await collector.deps.store.query('select 1 from sessions where id = $1', [`${sessionId}-auth`])).toEqual([]);
    expect((await postTraces(collector.url, body, { 'x-faultline-key': INGEST_KEY })).status).toBe(200);

    for (const path of ['/api/sessions', `/api/sessions/${sessionId}`, '/api/errors', '/api/groups', '/api/overview', '/api/timeouts', '/api/codes', '/metrics']) {
      expect((await fetch(`${collector.url}${path}`)).status, path).toBe(401);
      expect((await fetch(`${collector.url}${path}`, { headers: { authorization: 'Bearer not-the-token-0123456789' } })).status, path).toBe(401);
      expect((await fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${INGEST_KEY}` } })).status, path).toBe(401);
      expect((await fetch(`${collector.url}${path}`, { headers: api })).status, path).toBe(200);
    }
    const stream = await fetch(`${collector.url}/api/stream?token=wrong-token-0123456789`);
    expect(stream.status).toBe(401);
    await stream.body?.cancel();
    expect((await (await fetch(`${collector.url}/api/sessions`)).json()).error.code).toBe('unauthorized');
  });

  it('treats SQL-injection-shaped filter values as plain values on every API filter (no 500, tables intact)', async () => {
    const store = collector.deps.store;
    const counts = async () =>
      (await store.query<{ n: string }>(`select (select count(*) from spans) || '/' || (select count(*) from sessions) || '/' || (select count(*) from errors) || '/' || (select count(*) from error_groups) as n`))[0].n;
    const before = await counts();
    const payloads = [
      `' OR '1'='1`,
      `'; DROP TABLE spans; --`,
      `1; DELETE FROM sessions`,
      `") OR 1=1 --`,
      `%`,
      `_`,
      `\\`,
      `$1`,
      `' UNION SELECT id, id, id FROM sessions --`,
      `${sessionId}' --`,
      `AGT-PROVIDER-BILLING' OR 'x'='x`,
    ];
    const cursors = [
      Buffer.from(JSON.stringify(["2030-01-01T00:00:00Z' or 1=1 --", 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify(['2030-01-01T00:00:00Z', "x' or '1'='1"])).toString('base64url'),
    ];
    const filters: Record<string, string[]> = {
      '/api/sessions': ['state', 'stuck', 'failed', 'code', 'service', 'q', 'limit', 'cursor'],
      '/api/errors': ['code', 'category', 'session', 'fingerprint', 'limit', 'cursor'],
      '/api/groups': ['code', 'status', 'limit'],
      '/api/timeouts': ['window'],
      '/api/overview': ['window'],
    };
    const answers = new Map<number, number>();
    const textFilters = new Set(['service', 'q', 'session', 'fingerprint']);
    let requests = 0;
    for (const [path, params] of Object.entries(filters)) {
      for (const param of params) {
        for (const value of [...payloads, ...(param === 'cursor' ? cursors : [])]) {
          const r = await fetch(`${collector.url}${path}?${new URLSearchParams({ [param]: value })}`, { headers: api });
          requests++;
          answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
          const body = await r.json();
          expect([200, 400], `${path}?${param}=${value}`).toContain(r.status);
          if (r.status === 400) expect(body.error.message).toContain(param);
          // A text filter matches literally: none of these values is a stored session, service or fingerprint.
          if (r.status === 200 && textFilters.has(param)) expect(body.items, `${path}?${param}=${value}`).toEqual([]);
        }
      }
    }
    for (const value of payloads) {
      for (const path of [`/api/sessions/${encodeURIComponent(value)}`, `/api/sessions/${encodeURIComponent(value)}/latest`, `/api/codes/${encodeURIComponent(value)}`]) {
        const r = await fetch(`${collector.url}${path}`, { headers: api });
        requests++;
        answers.set(r.status, (answers.get(r.status) ?? 0) + 1);
        expect([400, 404], path).toContain(r.status);
        await r.body?.cancel();
      }
    }
    expect(await counts()).toBe(before);
    reportFigures(`sql injection (${storage.name})`, { requests, answers: Object.fromEntries(answers) });
  });

  it('never stores or serves the secrets sent in messages, stack traces, attributes, events and resources', async () => {
    const store = collector.deps.store;
    // Our data did arrive (so the absence of secrets below means something).
    const stored = await store.query<{ n: number }>('select count(*)::int as n from spans where trace_id = $1', [traceId]);
    expect(stored[0].n).toBe(3);
    const columns = await store.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying')`,
    );
    const tables = [...new Set(columns.map((c) => c.table_name))];
    expect(tables).toEqual(expect.arrayContaining(['spans', 'sessions', 'errors', 'error_groups']));
    const leaks: string[] = [];
    let cells = 0;
    for (const { table_name: table, column_name: column } of columns) {
      const rows = await store.query<{ t: string }>(`select "${column}"::text as t from "${table}" where "${column}" is not null`);
      cells += rows.length;
      for (const { t } of rows) for (const [name, secret] of Object.entries(SECRETS)) if (t.includes(secret)) leaks.push(`${table}.${column}: ${name}`);
    }
    expect([...new Set(leaks)]).toEqual([]);
    // What was scrubbed left a marker where the secret was.
    const error = await store.query<{ technical_message: string }>('select technical_message from errors where session_id = $1', [sessionId]);
    expect(error[0].technical_message).toContain('[REDACTED]');

    const paths = ['/api/sessions', `/api/sessions/${sessionId}`, `/api/sessions/${sessionId}/latest`, `/api/errors?session=${sessionId}`, '/api/groups', '/api/overview', '/api/timeouts'];
    for (const path of paths) {
      const text = await (await fetch(`${collector.url}${path}`, { headers: api })).text();
      for (const [name, secret] of Object.entries(SECRETS)) expect(text.includes(secret), `${path} leaks ${name}`).toBe(false);
    }
    const detail = await (await fetch(`${collector.url}/api/sessions/${sessionId}`, { headers: api })).json();
    expect(detail.session.id).toBe(sessionId);
    reportFigures(`secrets (${storage.name})`, { tables: tables.length, cellsSearched: cells, secrets: Object.keys(SECRETS).length, leaks: leaks.length });
  });
});

describe('binding to a public interface', () => {
  function run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--conditions=@faultline/source', '--import', 'tsx', MAIN], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: '', FAULTLINE_INGEST_KEYS: '', FAULTLINE_API_TOKEN: '', FAULTLINE_ALLOW_INSECURE: '', PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  it.each<{ case: string; env: Record<string, string> }>([
    { case: 'no keys', env: { HOST: '0.0.0.0' } },
    { case: 'ingest keys but no API token', env: { HOST: '0.0.0.0', FAULTLINE_INGEST_KEYS: INGEST_KEY } },
    { case: 'an API token but no ingest keys', env: { HOST: '::', FAULTLINE_API_TOKEN: API_TOKEN } },
  ])('is refused at start with $case (exit 1, naming the variables)', async ({ env }) => {
    const { code, output } = await run(env);
    expect(code).toBe(1);
    expect(output).toMatch(/Refusing to listen on/);
    expect(output).toContain('FAULTLINE_INGEST_KEYS');
    expect(output).toContain('FAULTLINE_API_TOKEN');
    expect(output).toContain('FAULTLINE_ALLOW_INSECURE');
    expect(output).not.toMatch(/listening on/);
  });
});
