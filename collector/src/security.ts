/**
 * Browser-origin protection (docs/security.md). The collector answers on loopback without a
 * token by default, so a web page in the operator's browser is the attacker to stop:
 * - DNS rebinding: a page on evil.example re-resolves its name to 127.0.0.1 and is then
 *   "same-origin" with the collector. Its requests carry `Host: evil.example`, so only Host
 *   values this collector is reached by are served (421 otherwise).
 * - Cross-site requests: a page may POST to any URL without CORS, but only as a "simple"
 *   request (text/plain, forms). State-changing calls therefore need a JSON (or, on OTLP, a
 *   protobuf/JSON) content type, and an `Origin`, when a browser sends one, must be this
 *   collector, FAULTLINE_PUBLIC_URL or a FAULTLINE_CORS_ORIGINS entry — or the request carries
 *   the API token / an ingest key, which no foreign page has. hono/csrf checks only form
 *   content types, so it would not cover JSON sent by a rebound page; hence this file.
 * - CORS is off unless FAULTLINE_CORS_ORIGINS lists origins (hono/cors then answers them).
 * Non-browser clients (OTel SDKs, curl, the scenario runner) send no Origin and are unaffected.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from './config.ts';
import { FaultlineError } from './errors.ts';

/** Names that always mean this machine; browsers resolve `*.localhost` themselves (RFC 6761). */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '']);

/** `Host` header → lowercase hostname without port or IPv6 brackets; null when malformed. */
export function hostnameOf(host: string): string | null {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close > 0 ? h.slice(1, close) : null;
  }
  const colon = h.indexOf(':');
  const name = colon < 0 ? h : h.slice(0, colon);
  return name === '' ? null : name.replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Hostnames this collector answers for, besides loopback. `*` means any. */
export function allowedHostnames(config: Pick<Config, 'host' | 'publicUrl' | 'allowedHosts'>): Set<string> {
  const names = new Set(config.allowedHosts.map((h) => (h === '*' ? '*' : (hostnameOf(h) ?? h))));
  if (config.publicUrl) names.add(new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, '').toLowerCase());
  if (!WILDCARD_BINDS.has(config.host)) names.add(config.host.replace(/^\[|\]$/g, '').toLowerCase());
  return names;
}

/** 421 for a Host this collector does not serve (DNS rebinding). /healthz is exempt for probes. */
export function requireKnownHost(config: Config): MiddlewareHandler {
  const allowed = allowedHostnames(config);
  const any = allowed.has('*');
  return async (c, next) => {
    const host = c.req.header('host');
    if (any || host === undefined || c.req.path === '/healthz') return next();
    const name = hostnameOf(host);
    if (name !== null && (isLoopbackName(name) || allowed.has(name))) return next();
    throw new FaultlineError(
      'unknown_host',
      421,
      `This collector does not answer for the host ${JSON.stringify(host.slice(0, 100))}. If clients reach it by that name, ` +
        'set FAULTLINE_PUBLIC_URL or add the name to FAULTLINE_ALLOWED_HOSTS.',
    );
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Origins allowed to send state-changing requests, besides the collector's own. */
function trustedOrigins(config: Pick<Config, 'publicUrl' | 'corsOrigins'>): Set<string> {
  const origins = new Set(config.corsOrigins);
  if (config.publicUrl) origins.add(new URL(config.publicUrl).origin);
  return origins;
}

function isSameOrigin(origin: string, c: Context): boolean {
  const host = c.req.header('host');
  if (!host) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/**
 * State-changing requests (POST, PATCH, …): `Origin`, when present, must be ours or trusted,
 * unless `authenticated(c)` says the request carries a credential no foreign page can have.
 * With `json`, the content type must be application/json (a cross-site page cannot send it
 * without a CORS preflight, which it does not get).
 */
export function requireSameOrigin(config: Config, options: { json: boolean; authenticated: (c: Context) => boolean }): MiddlewareHandler {
  const trusted = trustedOrigins(config);
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    if (options.json) {
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') {
        throw new FaultlineError(
          'unsupported_media_type',
          415,
          `${c.req.method} ${c.req.path} needs Content-Type: application/json (got ${JSON.stringify(type || 'none')}).`,
        );
      }
    }
    const origin = c.req.header('origin');
    if (origin === undefined || options.authenticated(c) || trusted.has(origin) || isSameOrigin(origin, c)) return next();
    throw new FaultlineError(
      'foreign_origin',
      403,
      `Requests from the web page at ${JSON.stringify(origin.slice(0, 100))} may not change this collector. ` +
        'Add the origin to FAULTLINE_CORS_ORIGINS if that page should be allowed.',
    );
  };
}

/** CORS answers only for configured origins; without FAULTLINE_CORS_ORIGINS, no CORS headers at all. */
export function corsForConfiguredOrigins(config: Config, methods: string[]): MiddlewareHandler | null {
  if (config.corsOrigins.length === 0) return null;
  return cors({
    origin: [...config.corsOrigins],
    allowMethods: methods,
    allowHeaders: ['authorization', 'content-type', 'content-encoding', 'x-faultline-key'],
    maxAge: 600,
  });
}
