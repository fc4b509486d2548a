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
import { FaultlineError } from './errors.ts';
import type { EventBus } from './events.ts';
import type { IngestPipeline } from './ingest/pipeline.ts';
import type { RequestPreparer } from './ingest/prepare.ts';
import { ingestRoutes } from './ingest/route.ts';
import type { Store } from './store/db.ts';
import { apiRoutes } from './api/index.ts';
import { requireApiToken } from './auth.ts';
import { registerMetrics } from './metrics.ts';

export interface CollectorDeps {
  config: Config;
  store: Store;
  pipeline: IngestPipeline;
  /** Decodes and enriches OTLP bodies (big ones in a worker thread). */
  preparer: RequestPreparer;
  events: EventBus;
  /** Counters other parts report for /metrics. */
  metrics: { stuckFlagged: number; sweeps: number; retentionDeleted: number };
}

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export function createApp(deps: CollectorDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof FaultlineError) {
      return c.json({ error: { code: err.code, message: err.message } }, err.status as never);
    }
    if (err instanceof ZodError) {
      const message = err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
      return c.json({ error: { code: 'invalid_request', message } }, 400);
    }
    console.error('Unexpected error while answering', c.req.method, c.req.path, err);
    return c.json({ error: { code: 'internal', message: 'The collector hit an unexpected error; details are in its log.' } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.route('/', ingestRoutes(deps.config, deps.pipeline, deps.preparer));
  app.use('/api/*', requireApiToken(deps.config.apiToken));
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
