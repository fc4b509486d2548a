import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Sessions from './Sessions.svelte';
import { live } from '../lib/live.ts';
import { navigate } from '../lib/router.ts';
import { FakeEventSource, json, makeSession, sessionPage, stubFetch } from '../test/fixtures.ts';

afterEach(() => live.stop());

describe('Sessions view', () => {
  it('asks for one page with the URL filters, and the next page only on "Load more"', async () => {
    navigate('/sessions?stuck=true&service=webchat');
    const { calls } = stubFetch({
      '/api/sessions': (url) =>
        url.searchParams.get('cursor') === 'cursor-2'
          ? json({ items: [makeSession({ id: 'sess_page2', stuck: true })], nextCursor: null, total: 3 })
          : json(sessionPage),
    });
    render(Sessions);

    expect(await screen.findByRole('link', { name: 'sess_stuck' })).toBeTruthy();
    const first = calls[0].url.searchParams;
    expect(first.get('stuck')).toBe('true');
    expect(first.get('service')).toBe('webchat');
    expect(first.get('limit')).toBe('50');
    expect(first.has('cursor')).toBe(false);
    expect((screen.getByLabelText('Stuck only') as HTMLInputElement).checked).toBe(true);

    await fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await screen.findByRole('link', { name: 'sess_page2' })).toBeTruthy();
    expect(calls[1].url.searchParams.get('cursor')).toBe('cursor-2');
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('changing a filter updates the URL and refetches', async () => {
    navigate('/sessions');
    const { calls } = stubFetch({ '/api/sessions': () => json(sessionPage) });
    render(Sessions);
    await screen.findByRole('link', { name: 'sess_stuck' });
    await fireEvent.change(screen.getByLabelText('State'), { target: { value: 'error' } });
    expect(location.search).toBe('?state=error');
    await waitFor(() => expect(calls.at(-1)!.url.searchParams.get('state')).toBe('error'));
  });

  it('shows a session that gets stuck while the page is open, without reload', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    FakeEventSource.all = [];
    navigate('/sessions?stuck=true');
    stubFetch({ '/api/sessions': () => json({ items: [], nextCursor: null, total: 0 }) });
    render(Sessions);
    expect(await screen.findByText('No session matches these filters')).toBeTruthy();

    live.start();
    FakeEventSource.latest().open();
    // a running session that is not stuck does not belong in this list
    FakeEventSource.latest().send('session', { type: 'session', session: makeSession({ id: 'sess_ok' }) });
    FakeEventSource.latest().send('stuck', {
      type: 'stuck',
      session: makeSession({ id: 'sess_new', stuck: true, stuckKind: 'running_silent', stuckSince: new Date().toISOString() }),
    });
    expect(await screen.findByRole('link', { name: 'sess_new' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'sess_ok' })).toBeNull();
    expect(screen.getByText('stuck')).toBeTruthy();
  });

  it('says what to do when there are no sessions at all', async () => {
    navigate('/sessions');
    stubFetch({ '/api/sessions': () => json({ items: [], nextCursor: null, total: 0 }) });
    render(Sessions);
    expect(await screen.findByText('No sessions yet')).toBeTruthy();
    expect(screen.getByText(/Point an OpenTelemetry exporter or the Faultline SDK at/)).toBeTruthy();
  });
});
