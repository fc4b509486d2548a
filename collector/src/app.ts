/**
 * The Hono app, apart from `serve()` so tests drive it with `app.request()` and no socket.
 * Path of a span: otlp/ (decode) → ingest/ (enrich, queue, write) → store/ → sessions/ → api/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { ZodError } from 'zod';
import type { Config } from './config.ts';
import { FaultlineError, describeForLog } from './errors.ts';
import type { EventBus } from './events.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import type { RequestPreparer } from './ingest/prepare.ts';
import { ingestRoutes } from './ingest/route.ts';
import type { Store } from './store/db.ts';
import { isUnavailableError, StorageUnavailableError, type StorageHealth } from './store/health.ts';
import { apiRoutes } from './api/index.ts';
import { StreamTickets, hasApiToken, hasIngestKey, requireApiToken } from './auth.ts';
import { registerMetrics } from './metrics.ts';
import { corsForConfiguredOrigins, requireKnownHost, requireSameOrigin } from './security.ts';
import { streamTicketRoutes } from './api/stream.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  /** Decodes and enriches OTLP bodies (big ones in a worker thread). */
  preparer: RequestPreparer;
  events: EventBus;
  /** Whether the database answers; the breaker that turns an outage into fast 503s (store/health.ts). */
  health: StorageHealth;
  /** Set on SIGTERM: new requests are answered 503 + Retry-After while those in flight (counted here) finish. */
  lifecycle: { draining: boolean; inFlight: number };
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number; checkpoints: number; vacuums: number };
}

/** What a client is told while the collector shuts down: another instance, or this one restarted, will be there. */
export const DRAINING_RETRY_AFTER_S = 5;

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export function createApp(deps: CollectorDeps): Hono {
  const app = new Hono();
  const { config } = deps;
  const tickets = new StreamTickets(config.apiToken);

  app.onError((err, c) => {
    // An outage seen by a query is the database's unavailability, not a bug: 503, and the breaker opens.
    if (deps.health.report(err)) {
      const e = err instanceof StorageUnavailableError ? err : new StorageUnavailableError((err as Error).message, err);
      return c.json({ error: { code: e.code, message: e.message } }, 503, { 'retry-after': String(e.retryAfterSeconds) });
    }
    if (err instanceof FaultlineError) {
      return c.json({ error: { code: err.code, message: err.message } }, err.status as never);
    }
    if (err instanceof ZodError) {
      const message = err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
      return c.json({ error: { code: 'invalid_request', message } }, 400);
    }
    console.error('Unexpected error while answering', c.req.method, c.req.path, describeForLog(err));
    return c.json({ error: { code: 'internal', message: 'The collector hit an unexpected error; details are in its log.' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));

  // Browser-origin protection first (security.ts): a foreign Host is refused before anything else.
  app.use('*', requireKnownHost(config));
  // Draining (SIGTERM): requests already running finish; new ones on open connections are told to
  // come back, and every answer closes its connection so the server can stop.
  app.use('*', async (c, next) => {
    if (deps.lifecycle.draining && c.req.path !== '/livez') {
      return c.json(
        { error: { code: 'shutting_down', message: `The collector is shutting down; retry in ${DRAINING_RETRY_AFTER_S} s.` } },
        503,
        { 'retry-after': String(DRAINING_RETRY_AFTER_S), connection: 'close' },
      );
    }
    // Live streams end on their own at shutdown (EventBus.close): they are not waited for.
    const counted = c.req.path !== '/api/stream';
    if (counted) deps.lifecycle.inFlight++;
    try {
      await next();
    } finally {
      if (counted) deps.lifecycle.inFlight--;
    }
    if (deps.lifecycle.draining) c.header('connection', 'close');
  });

  // Liveness: the process answers (restart it if not). Readiness and storage: /healthz.
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/healthz', (c) => {
    const storage = deps.health.status();
    if (storage.state === 'up') return c.json({ status: 'ok', storage });
    return c.json({ status: 'unavailable', storage }, 503, { 'retry-after': String(new StorageUnavailableError('').retryAfterSeconds) });
  });
  const ingestCors = corsForConfiguredOrigins(config, ['POST']);
  if (ingestCors) app.use('/v1/*', ingestCors);
  app.use('/v1/*', requireSameOrigin(config, { json: false, authenticated: (c) => hasIngestKey(c, config.ingestKeys) }));
  app.route('/', ingestRoutes(config, deps.pipeline, deps.preparer));
  const apiCors = corsForConfiguredOrigins(config, ['GET', 'POST', 'PATCH']);
  if (apiCors) app.use('/api/*', apiCors);
  app.use('/api/*', requireApiToken(config.apiToken, tickets));
  app.use('/api/*', requireSameOrigin(config, { json: true, authenticated: (c) => hasApiToken(c, config.apiToken) }));
  // While the database is down every API call is answered 503 at once, and one already waiting on
  // it is answered 503 the moment the breaker opens (a frozen server would keep it forever).
  app.use('/api/*', async (c, next) => {
    deps.health.assertUp();
    if (c.req.path === '/api/stream') return next();
    await deps.health.guard(() => next());
  });
  app.route('/api/stream/tickets', streamTicketRoutes(tickets));
  app.route('/api', apiRoutes(deps));
  registerMetrics(app, deps);

  // The dashboard: built SPA files, and index.html for any other GET so client routes survive a refresh.
  const root = path.relative(process.cwd(), DASHBOARD_DIST) || '.';
  app.use('/assets/*', serveStatic({ root }));
  app.get('*', async (c, next) => {
    const p = c.req.path;
    if (p.startsWith('/api/') || p.startsWith('/v1/') || p === '/metrics') return next();
    const file = path.join(DASHBOARD_DIST, p);
    if (p !== '/' && file.startsWith(DASHBOARD_DIST) && fs.existsSync(file) && fs.statSync(file).isFile()) {
      return serveStatic({ root })(c, next);
    }
    const index = path.join(DASHBOARD_DIST, 'index.html');
    if (!fs.existsSync(index)) {
      return c.text('The dashboard is not built yet: run `npm run build:dashboard` (npm start does it for you).', 503);
    }
    return c.html(fs.readFileSync(index, 'utf8'));
  });
  return app;
}
