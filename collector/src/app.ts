/**
 * The Hono app, apart from `serve()` so tests drive it with `app.request()` and no socket.
 * Path of a span: otlp/ (decode) → ingest/ (enrich, queue, write) → store/ → sessions/ → api/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { serveStatic } from '@hono/node-server/serve-static';
import { ZodError } from 'zod';
import { API_ERROR_STATUS, type ApiError, type ApiErrorCode } from '@faultline/schema';
import type { CollectorDeps } from './deps.ts';
import { FaultlineError, describeForLog } from './errors.ts';
import { ingestRoutes } from './ingest/route.ts';
import { StorageUnavailableError } from './store/health.ts';
import { apiRoutes } from './api/index.ts';
import { describeIssues } from './api/params.ts';
import { StreamTickets, hasApiToken, hasIngestKey, requireApiToken } from './auth.ts';
import { registerMetrics } from './metrics.ts';
import { corsForConfiguredOrigins, requireKnownHost, requireSameOrigin } from './security.ts';
import { hubOf, streamTicketRoutes } from './api/stream.ts';
import { STREAM_POSITION_HEADER } from '@faultline/schema/api';

/** Built by `npm run build` (the root `prepare`, so `npm install` does it), never at start. */
export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

/** The error envelope of the contract, with the request id the `x-request-id` header also carries. */
function errorAnswer(c: Context, code: ApiErrorCode, message: string, status: number) {
  const body: ApiError = { error: { code, message, requestId: c.get('requestId') } };
  return c.json(body, status as never);
}

/** What a client is told while the collector shuts down: another instance, or this one restarted, will be there. */
export const DRAINING_RETRY_AFTER_S = 5;

/** A status Hono raised by itself (e.g. a JSON body that does not parse) under the contract's code for it. */
function codeForStatus(status: number): ApiErrorCode {
  return (Object.entries(API_ERROR_STATUS).find(([, s]) => s === status)?.[0] as ApiErrorCode | undefined) ?? 'internal';
}

export function createApp(deps: CollectorDeps) {
  const app = new Hono();
  const { config } = deps;
  const tickets = new StreamTickets(config.apiToken);

  app.use('*', requestId());
  app.onError((err, c) => {
    // An outage seen by a query is the database's unavailability, not a bug: 503, and the breaker opens.
    if (deps.health.report(err)) {
      const e = err instanceof StorageUnavailableError ? err : new StorageUnavailableError((err as Error).message, err);
      c.header('retry-after', String(e.retryAfterSeconds));
      return errorAnswer(c, e.code, e.message, e.status);
    }
    if (err instanceof FaultlineError) return errorAnswer(c, err.code, err.message, err.status);
    if (err instanceof ZodError) return errorAnswer(c, 'invalid_request', describeIssues(err), 400);
    if (err instanceof HTTPException && err.status < 500) {
      const message = err.status === 400 ? `The request body must be JSON (${err.message}).` : err.message;
      return errorAnswer(c, codeForStatus(err.status), message, err.status);
    }
    console.error(`Unexpected error while answering ${c.req.method} ${c.req.path} (request ${c.get('requestId')}):`, describeForLog(err));
    return errorAnswer(c, 'internal', 'The collector hit an unexpected error; details are in its log.', 500);
  });
  app.notFound((c) => errorAnswer(c, 'not_found', `No route for ${c.req.method} ${c.req.path}.`, 404));

  // Browser-origin protection first (security.ts): a foreign Host is refused before anything else.
  // Middleware is registered on `app` in order; the routes chain on it so their types add up to AppType.
  app.use('*', requireKnownHost(config));
  // Draining (SIGTERM): requests already running finish; new ones are told to come back, and every
  // answer closes its connection so the server can stop.
  app.use('*', async (c, next) => {
    if (deps.lifecycle.draining && c.req.path !== '/livez') {
      c.header('retry-after', String(DRAINING_RETRY_AFTER_S));
      c.header('connection', 'close');
      return errorAnswer(c, 'shutting_down', `The collector is shutting down; retry in ${DRAINING_RETRY_AFTER_S} s.`, 503);
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
  app.get('/livez', (c) => c.json({ status: 'ok' as const }, 200));
  const withHealth = app.get('/healthz', (c) => {
    const storage = deps.health.status();
    if (storage.state === 'up') return c.json({ status: 'ok' as const, storage }, 200);
    c.header('retry-after', String(new StorageUnavailableError('').retryAfterSeconds));
    return c.json({ status: 'unavailable' as const, storage }, 503);
  });
  const ingestCors = corsForConfiguredOrigins(config, ['POST']);
  if (ingestCors) app.use('/v1/*', ingestCors);
  app.use('/v1/*', requireSameOrigin(config, { json: false, authenticated: (c) => hasIngestKey(c, config.ingestKeys) }));
  const withIngest = withHealth.route('/', ingestRoutes(config, deps.pipeline, deps.preparer));
  const apiCors = corsForConfiguredOrigins(config, ['GET', 'POST', 'PATCH', 'DELETE']);
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
  // Every API answer says how new it is in live-stream terms, so the dashboard refetches after the
  // stream opens only when events were published in between (not on every page load).
  const hub = hubOf(deps);
  app.use('/api/*', async (c, next) => {
    if (c.req.path !== '/api/stream') c.header(STREAM_POSITION_HEADER, hub.position());
    await next();
  });
  const routes = withIngest.route('/api/stream/tickets', streamTicketRoutes(tickets)).route('/api', apiRoutes(deps));
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
      return c.text('The dashboard is not built: run `npm run build` (`npm install` does it for you).', 503);
    }
    return c.html(fs.readFileSync(index, 'utf8'));
  });
  return routes;
}

/** The collector's HTTP surface as a type: what the typed client (`@faultline/collector/client`) is made from. */
export type AppType = ReturnType<typeof createApp>;
