/**
 * Query API (docs/design.md, "API"): composed from one module per resource. Chained so the
 * route types accumulate into the app's type (AppType), which the typed client reads.
 */
import { Hono } from 'hono';
import type { CollectorDeps } from '../deps.ts';
import { codeRoutes } from './codes.ts';
import { errorRoutes } from './errors.ts';
import { overviewRoutes } from './overview.ts';
import { scenarioRoutes } from './scenarios.ts';
import { sessionRoutes } from './sessions.ts';
import { streamRoutes } from './stream.ts';
import { timeoutRoutes } from './timeouts.ts';

export function apiRoutes(deps: CollectorDeps) {
  return new Hono()
    .route('/sessions', sessionRoutes(deps))
    .route('/codes', codeRoutes(deps))
    .route('/', errorRoutes(deps))
    .route('/timeouts', timeoutRoutes(deps))
    .route('/overview', overviewRoutes(deps))
    .route('/stream', streamRoutes(deps))
    .route('/scenarios', scenarioRoutes(deps));
}
