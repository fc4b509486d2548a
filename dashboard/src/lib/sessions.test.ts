import { describe, expect, it } from 'vitest';
import { filterFromQuery, mergeSession } from './sessions.ts';
import { billingFailed, makeSession } from '../test/fixtures.ts';

describe('live session lists use the API’s filter definitions', () => {
  it('q is a session id prefix (as on the server): a pushed "x-sess_9" stays out of a list searched for "sess_"', () => {
    const filter = filterFromQuery(new URLSearchParams('q=sess_'));
    expect(mergeSession([], makeSession({ id: 'sess_9' }), filter).added).toBe(true);
    expect(mergeSession([], makeSession({ id: 'x-sess_9' }), filter).added).toBe(false);
  });

  it('an unchecked box filters nothing; a checked one does', () => {
    const running = makeSession({ id: 'sess_run' });
    expect(mergeSession([], running, filterFromQuery(new URLSearchParams(''))).added).toBe(true);
    expect(mergeSession([], running, filterFromQuery(new URLSearchParams('failed=true'))).added).toBe(false);
    expect(mergeSession([], billingFailed, filterFromQuery(new URLSearchParams('failed=true'))).added).toBe(true);
  });

  it('code=: a session whose last error is the code joins; one already listed stays when its last error changes (it still hit the code)', () => {
    const filter = filterFromQuery(new URLSearchParams('code=agt-provider-billing'));
    const first = mergeSession([], billingFailed, filter);
    expect(first.added).toBe(true);
    const moved = { ...billingFailed, lastError: { ...billingFailed.lastError!, code: 'AGT-TIMEOUT-HEARTBEAT' } };
    expect(mergeSession(first.list, moved, filter).list.map((s) => s.lastError?.code)).toEqual(['AGT-TIMEOUT-HEARTBEAT']);
  });
});
