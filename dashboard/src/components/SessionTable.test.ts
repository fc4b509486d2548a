import { render, screen, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import SessionTable from './SessionTable.svelte';
import { makeSession, sessionPage } from '../test/fixtures.ts';

describe('SessionTable', () => {
  it('shows the friendly message, the code and the stuck badge a support person needs', () => {
    render(SessionTable, { sessions: sessionPage.items, caption: 'Sessions' });

    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);

    const stuck = within(rows[0]);
    expect(stuck.getByRole('link', { name: 'sess_stuck' }).getAttribute('href')).toBe('/sessions/sess_stuck');
    expect(stuck.getByText('stuck')).toBeTruthy();
    expect(stuck.getByText(/silent for 9 min/)).toBeTruthy();
    expect(stuck.getByText(/stopped making progress while starting/)).toBeTruthy();
    expect(stuck.getByRole('link', { name: 'AGT-SESSION-STUCK' }).getAttribute('href')).toBe('/codes/AGT-SESSION-STUCK');

    const failed = within(rows[1]);
    expect(failed.getByText('error')).toBeTruthy();
    expect(failed.queryByText('stuck')).toBeNull();
    expect(failed.getByText(/out of credit/)).toBeTruthy();
    expect(failed.getByRole('link', { name: 'AGT-PROVIDER-BILLING' })).toBeTruthy();
  });

  it('shows relative times with the absolute time in the title', () => {
    render(SessionTable, { sessions: [makeSession({ lastSeenAt: new Date(Date.now() - 180_000).toISOString() })], caption: 'x' });
    const time = screen.getByText('3 min ago');
    expect(time.tagName).toBe('TIME');
    expect(time.getAttribute('title')).toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('tells where a stuck session stopped: its last status under the stuck message', () => {
    render(SessionTable, { sessions: [sessionPage.items[0]], caption: 'x' });
    const cell = screen.getByText(/stopped making progress while starting/);
    expect(cell.textContent).toContain('Last status: Creating execution environment...');
  });

  it('says the state is unknown for a plain OpenTelemetry producer, with why in the title', () => {
    render(SessionTable, { sessions: [makeSession({ state: null, statusMessage: null })], caption: 'x' });
    const badge = screen.getByText('state unknown');
    expect(badge.getAttribute('title')).toMatch(/does not|not session status changes/);
  });

  it('leads with the status line of a healthy session, not an old error', () => {
    const s = makeSession({
      statusMessage: 'Running tool search',
      lastError: { code: 'AGT-PROVIDER-RATE_LIMIT', category: 'provider', message: 'Rate limited, retried.', at: new Date().toISOString() },
    });
    render(SessionTable, { sessions: [s], caption: 'x' });
    const cell = screen.getByText('Running tool search');
    expect(cell.textContent).toContain('Last error: Rate limited, retried.');
  });
});
