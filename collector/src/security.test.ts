/**
 * Browser-origin protection against a real collector over real HTTP (node:http, so the Host
 * and Origin headers are exactly what a browser under DNS rebinding or a cross-site page sends).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGES, startTestCollector } from './testing.ts';
import type { RunningCollector } from './server.ts';
import { loadConfig } from './config.ts';
import { StreamTickets } from './auth.ts';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: options.method ?? 'GET', headers: options.headers, setHost: !options.headers?.host },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        // The stream never ends by itself: its first bytes are enough.
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          res.once('data', () => {
            resolve({ status: res.statusCode!, headers: res.headers, body });
            req.destroy();
          });
        } else res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const RESULT = JSON.stringify({ scenarioId: 'sandbox-died', passed: true, detectedCode: null, detectedState: null, detectMs: 1, sessionId: null, detail: 'from a web page' });
const SPANS = JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'session.id', value: { stringValue: 'sess-from-page' } }] }] }] }] });

describe('browser-origin protection (default: loopback, no token)', () => {
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0]);
  });
  afterAll(() => collector?.close());
  const runs = async () => (await collector.deps.store.query<{ n: number }>('select count(*)::int as n from scenario_runs'))[0].n;
  const sessions = async () => (await collector.deps.store.query<{ n: number }>(`select count(*)::int as n from sessions where id = 'sess-from-page'`))[0].n;

  it('refuses a foreign Host (DNS rebinding) on the API, the stream, /metrics, ingest and the dashboard with 421', async () => {
    for (const path of ['/api/sessions', '/api/stream', '/metrics', '/', '/sessions']) {
      const r = await send(collector.url, path, { headers: { host: 'rebind.attacker.example:4318' } });
      expect(r.status, path).toBe(421);
      expect(r.body).toContain('FAULTLINE_ALLOWED_HOSTS');
    }
    const ingest = await send(collector.url, '/v1/traces', { method: 'POST', headers: { host: 'rebind.attacker.example', 'content-type': 'application/json' }, body: SPANS });
    expect(ingest.status).toBe(421);
    expect(await sessions()).toBe(0);
  });

  it('answers loopback names on any port, and /healthz for any Host (probes use the pod IP)', async () => {
    for (const host of ['127.0.0.1:4318', 'localhost', 'LOCALHOST:80', '[::1]:4318', 'app.localhost:4318', '127.0.0.2']) {
      expect((await send(collector.url, '/api/codes', { headers: { host } })).status, host).toBe(200);
    }
    expect((await send(collector.url, '/healthz', { headers: { host: '10.1.2.3:4318' } })).status).toBe(200);
  });

  it('refuses a cross-origin text/plain POST (415) and a cross-origin JSON POST (403); stores nothing and runs nothing', async () => {
    const before = await runs();
    const page = { origin: 'https://attacker.example', host: new URL(collector.url).host };
    const plain = await send(collector.url, '/api/scenarios/results', { method: 'POST', headers: { ...page, 'content-type': 'text/plain;charset=UTF-8' }, body: RESULT });
    expect(plain.status).toBe(415);
    const json = await send(collector.url, '/api/scenarios/results', { method: 'POST', headers: { ...page, 'content-type': 'application/json' }, body: RESULT });
    expect(json.status).toBe(403);
    expect(JSON.parse(json.body).error.message).toContain('FAULTLINE_CORS_ORIGINS');
    const run = await send(collector.url, '/api/scenarios/run', { method: 'POST', headers: { ...page, 'content-type': 'text/plain' }, body: '{}' });
    expect(run.status).toBe(415);
    expect(collector.deps.store.kind).toBe('pglite');
    expect(await runs()).toBe(before);
    const status = JSON.parse((await send(collector.url, '/api/scenarios/run')).body);
    expect(status.running ?? false).toBe(false);
    // The same page cannot store telemetry either: its only non-preflighted type is refused.
    const otlp = await send(collector.url, '/v1/traces', { method: 'POST', headers: { ...page, 'content-type': 'text/plain' }, body: SPANS });
    expect(otlp.status).toBe(403);
    const otlpJson = await send(collector.url, '/v1/traces', { method: 'POST', headers: { ...page, 'content-type': 'application/json' }, body: SPANS });
    expect(otlpJson.status).toBe(403);
    expect(await sessions()).toBe(0);
  });

  it('accepts the same calls from the dashboard itself (same origin) and from clients that send no Origin', async () => {
    const before = await runs();
    const own = { origin: collector.url, 'content-type': 'application/json' };
    expect((await send(collector.url, '/api/scenarios/results', { method: 'POST', headers: own, body: RESULT })).status).toBe(201);
    expect((await send(collector.url, '/api/scenarios/results', { method: 'POST', headers: { 'content-type': 'application/json' }, body: RESULT })).status).toBe(201);
    expect(await runs()).toBe(before + 2);
    expect((await send(collector.url, '/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: SPANS })).status).toBe(200);
  });

  it('sends no CORS headers, to a preflight or otherwise', async () => {
    const pre = await send(collector.url, '/api/sessions', { method: 'OPTIONS', headers: { origin: 'https://attacker.example', 'access-control-request-method': 'GET' } });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const get = await send(collector.url, '/api/sessions', { headers: { origin: 'https://attacker.example' } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('with FAULTLINE_API_TOKEN, FAULTLINE_PUBLIC_URL and FAULTLINE_CORS_ORIGINS', () => {
  const TOKEN = 'api-token-0123456789abcdef';
  let collector: RunningCollector;
  beforeAll(async () => {
    collector = await startTestCollector(STORAGES[0], {
      apiToken: TOKEN,
      publicUrl: 'https://faultline.example.com',
      allowedHosts: ['collector.internal'],
      corsOrigins: ['https://app.example.com'],
    });
  });
  afterAll(() => collector?.close());
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('accepts the token in the Authorization header only: ?token= is refused on every route', async () => {
    for (const path of ['/api/sessions', '/api/overview', '/api/codes', '/api/stream', '/metrics']) {
      expect((await send(collector.url, `${path}?token=${TOKEN}`)).status, path).toBe(401);
      expect((await send(collector.url, path, { headers: auth })).status, path).toBe(200);
    }
  });

  it('opens the live stream with a ticket obtained with the header, once', async () => {
    const issued = await send(collector.url, '/api/stream/tickets', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    expect(issued.status).toBe(201);
    const { ticket, expiresAt } = JSON.parse(issued.body);
    expect(ticket).not.toContain(TOKEN);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(StreamTickets.TTL_MS);
    const open = await send(collector.url, `/api/stream?ticket=${encodeURIComponent(ticket)}`);
    expect(open.status).toBe(200);
    expect(open.body).toContain('hello');
    expect((await send(collector.url, `/api/stream?ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
    // A ticket opens the stream and nothing else.
    expect((await send(collector.url, `/api/sessions?ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
    expect((await send(collector.url, '/api/stream?ticket=1.forged.ticket')).status).toBe(401);
    expect((await send(collector.url, '/api/stream/tickets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
  });

  it('refuses an expired ticket', () => {
    let now = 1_000_000;
    const tickets = new StreamTickets(TOKEN, () => now);
    const { ticket } = tickets.issue();
    now += StreamTickets.TTL_MS + 1;
    expect(tickets.redeem(ticket)).toBe(false);
    // Collectors sharing the token accept each other's tickets.
    const other = new StreamTickets(TOKEN, () => now);
    expect(other.redeem(new StreamTickets(TOKEN, () => now).issue().ticket)).toBe(true);
    expect(new StreamTickets('another-token-0123456789', () => now).redeem(tickets.issue().ticket)).toBe(false);
  });

  it('answers the public and allowed host names, and CORS only for the configured origin', async () => {
    expect((await send(collector.url, '/api/codes', { headers: { ...auth, host: 'faultline.example.com' } })).status).toBe(200);
    expect((await send(collector.url, '/api/codes', { headers: { ...auth, host: 'collector.internal:4318' } })).status).toBe(200);
    expect((await send(collector.url, '/api/codes', { headers: { ...auth, host: 'other.example.com' } })).status).toBe(421);
    const pre = await send(collector.url, '/api/sessions', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const foreign = await send(collector.url, '/api/sessions', { method: 'OPTIONS', headers: { origin: 'https://attacker.example', 'access-control-request-method': 'GET' } });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    // A state-changing call from the public URL's own pages is same-origin.
    const own = await send(collector.url, '/api/scenarios/results', {
      method: 'POST',
      headers: { ...auth, origin: 'https://faultline.example.com', host: 'faultline.example.com', 'content-type': 'application/json' },
      body: RESULT,
    });
    expect(own.status).toBe(201);
  });
});

describe('configuration', () => {
  it('names the variable and the rule for a bad origin list or public URL', () => {
    expect(() => loadConfig({ FAULTLINE_CORS_ORIGINS: '*' })).toThrow(/FAULTLINE_CORS_ORIGINS[.0-9]*: .*every web page/);
    expect(() => loadConfig({ FAULTLINE_CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/FAULTLINE_CORS_ORIGINS[.0-9]*: .*origin/);
    expect(() => loadConfig({ FAULTLINE_PUBLIC_URL: 'faultline.example.com' })).toThrow(/FAULTLINE_PUBLIC_URL: must be an http/);
    expect(loadConfig({ FAULTLINE_ALLOWED_HOSTS: 'a.example, b.example' }).allowedHosts).toEqual(['a.example', 'b.example']);
  });
});
