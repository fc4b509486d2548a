import { WINDOW_NAMES, type Session, type SessionState, type WindowName } from '@faultline/schema';
import { sessionMatches as matchesApiFilter } from '@faultline/schema';
import { query, type SessionFilter } from './api.ts';

export function filterFromQuery(query: URLSearchParams): SessionFilter {
  return {
    stuck: query.get('stuck') === 'true',
    failed: query.get('failed') === 'true',
    active: query.get('active') === 'true',
    window: (WINDOW_NAMES as string[]).includes(query.get('window') ?? '') ? (query.get('window') as string) : '',
    includeTest: query.get('includeTest') === 'true',
    state: query.get('state') ?? '',
    code: query.get('code') ?? '',
    service: query.get('service') ?? '',
    q: query.get('q') ?? '',
  };
}

/**
 * Whether a session pushed over the live stream belongs in a list filtered this way: the
 * contract's definition of the API's filters (`sessionMatches`: `q` a session id prefix or a
 * trace id, `code` a hit of that code), with unchecked boxes and empty fields meaning "not
 * filtered" as in the URL.
 */
export function sessionMatches(filter: SessionFilter, s: Session): boolean {
  const given = query({ ...filter });
  return matchesApiFilter(
    {
      state: given.state as SessionState | undefined,
      stuck: given.stuck ? true : undefined,
      failed: given.failed ? true : undefined,
      active: given.active ? true : undefined,
      window: (given.window as WindowName | undefined) || undefined,
      includeTest: given.includeTest ? true : undefined,
      code: given.code,
      service: given.service,
      q: given.q,
    },
    s,
  );
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
