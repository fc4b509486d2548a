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
import { ingestRoutes } from './ingest/route.ts';
import type { Store } from './store/db.ts';
import { apiRoutes } from './api/index.ts';
import { StreamTickets, hasApiToken, hasIngestKey, requireApiToken } from './auth.ts';
import { registerMetrics } from './metrics.ts';
import { corsForConfiguredOrigins, requireKnownHost, requireSameOrigin } from './security.ts';
import { streamTicketRoutes } from './api/stream.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  events: EventBus;
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number };
}

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export function createApp(deps: CollectorDeps): Hono {
  const app = new Hono();
  const { config } = deps;
  const tickets = new StreamTickets(config.apiToken);

  app.onError((err, c) => {
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
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const ingestCors = corsForConfiguredOrigins(config, ['POST']);
  if (ingestCors) app.use('/v1/*', ingestCors);
  app.use('/v1/*', requireSameOrigin(config, { json: false, authenticated: (c) => hasIngestKey(c, config.ingestKeys) }));
  app.route('/', ingestRoutes(config, deps.pipeline));
  const apiCors = corsForConfiguredOrigins(config, ['GET', 'POST', 'PATCH']);
  if (apiCors) app.use('/api/*', apiCors);
  app.use('/api/*', requireApiToken(config.apiToken, tickets));
  app.use('/api/*', requireSameOrigin(config, { json: true, authenticated: (c) => hasApiToken(c, config.apiToken) }));
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
