import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { get } from 'svelte/store';
import Lookup from './Lookup.svelte';
import { route } from '../lib/router.ts';
import { json, makeSession, stubFetch } from '../test/fixtures.ts';

async function lookUp(text: string) {
  render(Lookup);
  const input = screen.getByLabelText(/Find an error code, session id or trace id/);
  await fireEvent.input(input, { target: { value: text } });
  await fireEvent.submit(input.closest('form')!);
}

describe('Lookup', () => {
  it('routes a session id a customer quotes to that session', async () => {
    const { calls } = stubFetch({
      '/api/sessions': () => json({ items: [makeSession({ id: 'sess_42' })], nextCursor: null }),
    });
    await lookUp('  sess_42 ');
    await waitFor(() => expect(location.pathname).toBe('/sessions/sess_42'));
    expect(get(route).name).toBe('session');
    expect(calls[0].url.searchParams.get('q')).toBe('sess_42');
  });

  it('routes a trace id to the session that carried it', async () => {
    const trace = '0af7651916cd43dd8448eb211c80319c';
    stubFetch({
      '/api/sessions': () => json({ items: [makeSession({ id: 'sess_7', lastTraceId: trace })], nextCursor: null }),
    });
    await lookUp(trace);
    await waitFor(() => expect(location.pathname).toBe('/sessions/sess_7'));
  });

  it('routes a code straight to the catalog entry without asking the API', async () => {
    const { calls } = stubFetch({});
    await lookUp('agt-provider-billing');
    await waitFor(() => expect(location.pathname).toBe('/codes/AGT-PROVIDER-BILLING'));
    expect(calls).toHaveLength(0);
  });

  it('says plainly when nothing matches', async () => {
    stubFetch({
      '/api/sessions': (url) =>
        url.pathname === '/api/sessions'
          ? json({ items: [], nextCursor: null })
          : json({ error: { code: 'not_found', message: 'No such session' } }, 404),
    });
    await lookUp('nope');
    expect(await screen.findByText(/No error code, session or trace matches “nope”/)).toBeTruthy();
    expect(location.pathname).toBe('/');
  });
});
