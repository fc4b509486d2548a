import type { Session } from '@faultline/schema';
import type { SessionFilter } from './api.ts';

export function filterFromQuery(query: URLSearchParams): SessionFilter {
  return {
    stuck: query.get('stuck') === 'true',
    failed: query.get('failed') === 'true',
    state: query.get('state') ?? '',
    code: query.get('code') ?? '',
    service: query.get('service') ?? '',
    q: query.get('q') ?? '',
  };
}

/** Whether a session pushed over the live stream belongs in a list filtered this way. */
export function sessionMatches(filter: SessionFilter, s: Session): boolean {
  if (filter.stuck && !s.stuck) return false;
  if (filter.failed && !(s.state === 'error' || (s.state === null && s.lastError !== null))) return false;
  if (filter.state && s.state !== filter.state) return false;
  if (filter.code && s.lastError?.code !== filter.code) return false;
  if (filter.service && s.service !== filter.service) return false;
  if (filter.q && !s.id.includes(filter.q) && s.lastTraceId !== filter.q) return false;
  return true;
}

/** Replace a session in a list if present; otherwise prepend it when it matches the filter. */
export function mergeSession(list: Session[], s: Session, filter: SessionFilter): { list: Session[]; added: boolean } {
  const index = list.findIndex((x) => x.id === s.id);
  if (index >= 0) {
    const next = list.slice();
    next[index] = s;
    return { list: next, added: false };
  }
  if (!sessionMatches(filter, s)) return { list, added: false };
  return { list: [s, ...list], added: true };
}
