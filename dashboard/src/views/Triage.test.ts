import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorGroup } from '@faultline/schema';
import GroupStatus from '../components/GroupStatus.svelte';
import StateBadge from '../components/StateBadge.svelte';
import SessionView from './SessionView.svelte';
import { live } from '../lib/live.ts';
import { json, makeSession, stuckStarting, stubFetch } from '../test/fixtures.ts';

afterEach(() => live.stop());

const group = (overrides: Partial<ErrorGroup> = {}): ErrorGroup => ({
  fingerprint: 'fp_billing_1',
  code: 'AGT-PROVIDER-BILLING',
  category: 'provider',
  title: 'AI provider account out of credits',
  exceptionType: null,
  sampleMessage: 'credit balance is too low',
  firstSeen: new Date().toISOString(),
  lastSeen: new Date().toISOString(),
  count: 3,
  sessions: 2,
  status: 'open',
  regressedAt: null,
  ...overrides,
});

describe('operator triage', () => {
  it('resolves a group with a JSON PATCH and shows the stored status', async () => {
    const { calls } = stubFetch({ '/api/groups': (_url, init) => json(group({ status: JSON.parse(String(init?.body)).status })) });
    let changed: ErrorGroup | null = null;
    render(GroupStatus, { group: group(), onchange: (g: ErrorGroup) => (changed = g) });
    await fireEvent.click(screen.getByRole('button', { name: /^Resolve/ }));
    await waitFor(() => expect(changed).not.toBeNull());
    const call = calls[0];
    expect(call.url.pathname).toBe('/api/groups/fp_billing_1');
    expect(call.init?.method).toBe('PATCH');
    expect(new Headers(call.init?.headers).get('content-type')).toMatch(/application\/json/);
    expect(changed!.status).toBe('resolved');
  });

  it('says "regressed" for a resolved group that happened again, and offers resolve and ignore', () => {
    render(GroupStatus, { group: group({ regressedAt: new Date().toISOString() }) });
    expect(screen.getByText('regressed')).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Ignore/ })).toBeTruthy();
  });

  it('words a plain-OTel session that succeeded after an error as recovered', () => {
    render(StateBadge, { state: null, outcome: 'recovered' });
    const badge = screen.getByText('recovered');
    expect(badge.getAttribute('title')).toBe('Recovered: the last call succeeded after an error.');
  });

  it('dismisses a stuck session from its page; the page then says it was dismissed', async () => {
    const dismissed = makeSession({ ...stuckStarting, stuck: false, stuckKind: null, stuckSince: null, stuckDismissedAt: stuckStarting.lastSeenAt });
    // The collector's answers before and after the dismissal (the page reads the session again after acting).
    let stored = stuckStarting;
    const { calls } = stubFetch({
      '/api/sessions/sess_stuck/latest': () => json({ sessionId: 'sess_stuck', kind: 'none', at: null, text: null, error: null, state: 'starting' }),
      '/api/sessions/sess_stuck/stuck': () => {
        stored = dismissed;
        return json(dismissed);
      },
      '/api/sessions/sess_stuck': () => json({ session: stored, timeline: [], customerMessage: 'We are looking into it.' }),
    });
    render(SessionView, { id: 'sess_stuck' });
    await fireEvent.click(await screen.findByRole('button', { name: 'Dismiss stuck' }));
    expect(await screen.findByTestId('stuck-dismissed')).toBeTruthy();
    const post = calls.find((c) => c.url.pathname === '/api/sessions/sess_stuck/stuck')!;
    expect(post.init?.method).toBe('POST');
    expect(JSON.parse(String(post.init?.body))).toEqual({ action: 'dismiss' });
    expect(screen.queryByRole('button', { name: 'Dismiss stuck' })).toBeNull();
  });
});
