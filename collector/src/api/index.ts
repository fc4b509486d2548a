/** Query API (DESIGN §6): composed from one module per resource. */
import { Hono } from 'hono';
import type { CollectorDeps } from '../app.ts';
import { alertRoutes } from './alerts.ts';
import { codeRoutes } from './codes.ts';
import { errorRoutes } from './errors.ts';
import { overviewRoutes } from './overview.ts';
import { scenarioRoutes } from './scenarios.ts';
import { sessionRoutes } from './sessions.ts';
import { streamRoutes } from './stream.ts';
import { timeoutRoutes } from './timeouts.ts';

export function apiRoutes(deps: CollectorDeps): Hono {
  const api = new Hono();
  api.route('/sessions', sessionRoutes(deps));
  api.route('/codes', codeRoutes(deps));
  api.route('/', errorRoutes(deps));
  api.route('/timeouts', timeoutRoutes(deps));
  api.route('/overview', overviewRoutes(deps));
  api.route('/stream', streamRoutes(deps));
  api.route('/scenarios', scenarioRoutes(deps));
  api.route('/alerts', alertRoutes(deps));
  return api;
}
