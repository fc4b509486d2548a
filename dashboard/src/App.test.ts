import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { writable } from 'svelte/store';
import App from './App.svelte';
import { authRequired, setToken } from './lib/api.ts';
import type { Live, LiveStatus } from './lib/live.ts';
import { json, sessionPage, stubFetch } from './test/fixtures.ts';

function fakeLive(initial: LiveStatus = 'live'): Live & { setStatus(s: LiveStatus): void; started: number } {
  const status = writable<LiveStatus>(initial);
  const fake = {
    status,
    lastEventAt: writable<number | null>(null),
    started: 0,
    start() {
      fake.started += 1;
    },
    stop() {},
    restart() {},
    on: () => () => {},
    setStatus: (s: LiveStatus) => status.set(s),
  };
  return fake;
}

const overview = {
  window: '24h',
  includeTest: false,
  sessions: { total: 3, active: 1, failed: 1, stuck: 1 },
  errors: 4,
  topCodes: [{ code: 'AGT-PROVIDER-BILLING', title: 'Billing', category: 'provider', count: 3 }],
  timeouts: [],
  series: [],
};

// Reset before, not after: changing the token under a still-mounted App would refetch.
beforeEach(() => {
  setToken(null);
  authRequired.set(false);
});

describe('App', () => {
  it('asks for the API token on 401, stores it and sends it as a bearer token', async () => {
    const { calls } = stubFetch({
      '/api/overview': (_url, init) => {
        const auth = new Headers(init?.headers).get('authorization');
        return auth === 'Bearer s3cret'
          ? json(overview)
          : json({ error: { code: 'unauthorized', message: 'API token required' } }, 401);
      },
      '/api/sessions': (_url, init) =>
        new Headers(init?.headers).get('authorization') === 'Bearer s3cret'
          ? json(sessionPage)
          : json({ error: { code: 'unauthorized', message: 'API token required' } }, 401),
    });
    render(App, { live: fakeLive() });

    const input = await screen.findByLabelText('API token');
    expect(screen.getByRole('heading', { name: 'API token required' })).toBeTruthy();
    await fireEvent.input(input, { target: { value: 's3cret' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save token' }));

    expect(await screen.findByText('failed in the last 24h')).toBeTruthy();
    expect(localStorage.getItem('faultline.apiToken')).toBe('s3cret');
    const last = calls[calls.length - 1];
    expect(new Headers(last.init?.headers).get('authorization')).toBe('Bearer s3cret');
    expect(screen.queryByLabelText('API token')).toBeNull();
  });

  it('shows the API error message instead of a blank page', async () => {
    stubFetch({
      '/api/overview': () => json({ error: { code: 'db_unavailable', message: 'The database is not reachable.' } }, 503),
      '/api/sessions': () => json(sessionPage),
    });
    render(App, { live: fakeLive() });
    const alert = await screen.findByText(/The database is not reachable\./);
    expect(alert.closest('[role="alert"]')?.textContent).toContain('db_unavailable');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('tells a new operator where to point their exporter', async () => {
    stubFetch({
      '/api/overview': () => json({ ...overview, sessions: { total: 0, active: 0, failed: 0, stuck: 0 }, errors: 0, topCodes: [] }),
      '/api/sessions': () => json({ items: [], nextCursor: null }),
    });
    render(App, { live: fakeLive() });
    expect(await screen.findByText('No sessions yet')).toBeTruthy();
    expect(screen.getByText('http://127.0.0.1:4318')).toBeTruthy();
  });

  it('shows the live connection state in the header', async () => {
    stubFetch({ '/api/overview': () => json(overview), '/api/sessions': () => json(sessionPage) });
    const live = fakeLive('live');
    render(App, { live });
    const header = screen.getByRole('banner');
    expect(header.textContent).toContain('Live');
    live.setStatus('reconnecting');
    await waitFor(() => expect(header.textContent).toContain('Reconnecting…'));
    expect(live.started).toBe(1);
  });

  it('has a skip link and marks the current view in the navigation', async () => {
    history.replaceState(null, '', '/codes');
    stubFetch({ '/api/codes': () => json([]) });
    render(App, { live: fakeLive() });
    expect(screen.getByRole('link', { name: 'Skip to content' }).getAttribute('href')).toBe('#main');
    expect(screen.getByRole('link', { name: 'Codes' }).getAttribute('aria-current')).toBe('page');
  });
});
