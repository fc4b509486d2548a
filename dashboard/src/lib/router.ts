/**
 * Path routing with history.pushState. The collector answers every non-API path with
 * index.html, so a URL like /sessions?stuck=true can be bookmarked, shared and reloaded.
 * Filters and selection live in the query string: the URL is the state.
 */
import { get, writable } from 'svelte/store';
import { queryString, type Query } from './api.ts';

export type RouteName =
  | 'overview'
  | 'sessions'
  | 'session'
  | 'errors'
  | 'codes'
  | 'code'
  | 'timeouts'
  | 'scenarios'
  | 'alerts'
  | 'deliveries'
  | 'not-found';

export interface Route {
  name: RouteName;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

const TABLE: [RouteName, RegExp, string[]][] = [
  ['overview', /^\/$/, []],
  ['sessions', /^\/sessions$/, []],
  ['session', /^\/sessions\/([^/]+)$/, ['id']],
  ['errors', /^\/errors$/, []],
  ['codes', /^\/codes$/, []],
  ['code', /^\/codes\/([^/]+)$/, ['code']],
  ['timeouts', /^\/timeouts$/, []],
  ['scenarios', /^\/scenarios$/, []],
  ['alerts', /^\/alerts$/, []],
  ['deliveries', /^\/alerts\/deliveries$/, []],
];

export function matchRoute(path: string, search = ''): Route {
  const clean = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const query = new URLSearchParams(search);
  for (const [name, pattern, keys] of TABLE) {
    const match = pattern.exec(clean);
    if (!match) continue;
    const params: Record<string, string> = {};
    keys.forEach((key, i) => {
      try {
        params[key] = decodeURIComponent(match[i + 1]);
      } catch {
        params[key] = match[i + 1];
      }
    });
    return { name, path: clean, params, query };
  }
  return { name: 'not-found', path: clean, params: {}, query };
}

function current(): Route {
  return matchRoute(location.pathname, location.search);
}

export const route = writable<Route>(typeof location === 'undefined' ? matchRoute('/') : current());
/** Bumped on in-app navigation (not on first load), so the app can move focus to the new view. */
export const navigations = writable(0);

export function navigate(href: string, { replace = false } = {}): void {
  const url = new URL(href, location.href);
  const samePath = url.pathname === location.pathname;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route.set(current());
  if (!samePath) {
    navigations.update((n) => n + 1);
    globalThis.scrollTo?.(0, 0);
  }
}

/** Change query parameters of the current path; empty values are removed. */
export function setQuery(changes: Query, { replace = false } = {}): void {
  const params: Query = Object.fromEntries(get(route).query);
  Object.assign(params, changes);
  navigate(`${location.pathname}${queryString(params)}`, { replace });
}

export function sessionHref(id: string): string {
  return `/sessions/${encodeURIComponent(id)}`;
}

export function codeHref(code: string): string {
  return `/codes/${encodeURIComponent(code)}`;
}

function onClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.('a');
  if (!anchor || !anchor.href || anchor.target || anchor.hasAttribute('download')) return;
  // In-page anchors (the skip link) keep the browser's own scrolling and focus.
  if (anchor.getAttribute('href')?.startsWith('#')) return;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin) return;
  // The API and telemetry endpoints are not views.
  if (/^\/(api|v1|healthz|metrics)(\/|$)/.test(url.pathname)) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

function onPopState(): void {
  route.set(current());
}

export function startRouter(): () => void {
  // Only if the URL changed since the store was made: a new but equal route would make every view
  // that derives its query from it fetch its data a second time on page load.
  const now = current();
  const before = get(route);
  if (now.path !== before.path || now.query.toString() !== before.query.toString()) route.set(now);
  document.addEventListener('click', onClick);
  addEventListener('popstate', onPopState);
  return () => {
    document.removeEventListener('click', onClick);
    removeEventListener('popstate', onPopState);
  };
}
