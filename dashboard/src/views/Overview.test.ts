import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { OVERVIEW_CARDS, cardHref, type Overview as OverviewData } from '@faultline/schema';
import Overview from './Overview.svelte';
import { live } from '../lib/live.ts';
import { navigate, startRouter } from '../lib/router.ts';
import { json, sessionPage, stubFetch } from '../test/fixtures.ts';

afterEach(() => live.stop());

const overview = (window: OverviewData['window'], includeTest: boolean): OverviewData => ({
  window,
  includeTest,
  sessions: { total: 40, active: 7, failed: includeTest ? 22 : 4, stuck: 2 },
  errors: 31,
  topCodes: [{ code: 'AGT-PROVIDER-BILLING', title: 'AI provider account out of credits', category: 'provider', count: 12 }],
  timeouts: [],
  series: [],
});

function stub() {
  return stubFetch({
    '/api/overview': (url) => json(overview((url.searchParams.get('window') ?? '24h') as OverviewData['window'], url.searchParams.get('includeTest') === 'true')),
    '/api/sessions': () => json(sessionPage),
  });
}

describe('Overview', () => {
  it('each card says its window and clicking it opens the list with the same query the card counted', async () => {
    const stopRouter = startRouter();
    for (const card of OVERVIEW_CARDS) {
      navigate('/?window=6h');
      stub();
      const { unmount } = render(Overview);
      const item = await waitFor(() => {
        const el = document.querySelector(`[data-card="${card.key}"]`);
        if (!el) throw new Error(`no ${card.key} card yet`);
        return el as HTMLElement;
      });
      const link = within(item).getByRole('link');
      if (card.windowed) expect(link.textContent).toContain('last 6h');
      else expect(link.textContent).toContain('now');
      await fireEvent.click(link);
      // The router took the click: the dashboard is now on the list the card counted.
      expect(`${location.pathname}${location.search}`).toBe(cardHref(card, '6h', false));
      unmount();
    }
    stopRouter();
  });

  it('"Include test and demo data" is visible, off by default, and counts test data when turned on', async () => {
    navigate('/');
    const { calls } = stub();
    render(Overview);
    const toggle = (await screen.findByLabelText('Include test and demo data')) as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    expect(await screen.findByText('4')).toBeTruthy();
    expect(calls.find((c) => c.url.pathname === '/api/overview')!.url.searchParams.has('includeTest')).toBe(false);
    await fireEvent.click(toggle);
    expect(location.search).toBe('?includeTest=true');
    expect(await screen.findByText('22')).toBeTruthy();
    await waitFor(() => expect(calls.filter((c) => c.url.pathname === '/api/sessions').at(-1)!.url.searchParams.get('includeTest')).toBe('true'));
    const failedCard = document.querySelector('[data-card="failed"] a')!;
    expect(failedCard.getAttribute('href')).toBe('/sessions?failed=true&window=24h&includeTest=true');
  });

  it('puts "Top error codes" right under the cards, before the stuck and failed lists', async () => {
    navigate('/');
    stub();
    render(Overview);
    const codes = await screen.findByRole('heading', { name: /Top error codes/ });
    const stuck = screen.getByRole('heading', { name: 'Stuck now' });
    expect(codes.compareDocumentPosition(stuck) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });
});
