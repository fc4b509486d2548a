/** Query API (DESIGN §6): composed from one module per resource. */
import { Hono } from 'hono';
import type { CollectorDeps } from '../app.ts';

export function apiRoutes(_deps: CollectorDeps): Hono {
  const api = new Hono();
  return api;
}
