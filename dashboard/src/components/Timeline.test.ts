import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Timeline from './Timeline.svelte';
import { makeError, timelineItem } from '../test/fixtures.ts';

const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

describe('Timeline', () => {
  const items = [
    // deliberately out of order, as spans arrive
    timelineItem({ kind: 'error', at: at(30), code: 'AGT-PROVIDER-BILLING', message: 'Your anthropic account is out of credit.', statusCode: 2, error: makeError() }),
    timelineItem({ kind: 'status', at: at(0), state: 'starting', statusMessage: 'Creating execution environment' }),
    timelineItem({ kind: 'heartbeat', at: at(10), details: { 'faultline.heartbeat.phase': 'sandbox', 'faultline.heartbeat.events_processed': 3 } }),
    timelineItem({ kind: 'status', at: at(29), state: 'error', statusMessage: 'Turn failed' }),
    timelineItem({ kind: 'heartbeat', at: at(15), details: { 'faultline.heartbeat.phase': 'model', 'faultline.heartbeat.events_processed': 9 } }),
    timelineItem({ kind: 'turn', at: at(20), name: 'invoke_agent support', durationMs: 9_500 }),
  ];

  it('renders status changes, heartbeats, turns and errors in time order', () => {
    const { container } = render(Timeline, { items });
    const kinds = [...container.querySelectorAll('li.tl')].map((li) => li.getAttribute('data-kind'));
    expect(kinds).toEqual(['status', 'heartbeat', 'turn', 'status', 'error']);
  });

  it('folds consecutive heartbeats and shows the last one’s progress', () => {
    render(Timeline, { items });
    expect(screen.getByText('2 heartbeats')).toBeTruthy();
    expect(screen.getByText('model')).toBeTruthy();
    expect(screen.getByText('9')).toBeTruthy();
    expect(screen.queryByText('sandbox')).toBeNull();
  });

  it('puts the friendly message first and folds the technical detail', () => {
    const { container } = render(Timeline, { items });
    const error = container.querySelector('li[data-kind="error"]')!;
    expect(error.querySelector('.friendly')?.textContent).toContain('out of credit');
    const link = screen.getByRole('link', { name: 'AGT-PROVIDER-BILLING' });
    expect(link.getAttribute('href')).toBe('/codes/AGT-PROVIDER-BILLING');

    const details = error.querySelector('details')!;
    expect(details.open).toBe(false);
    expect(details.querySelector('summary')?.textContent).toBe('Technical detail');
    expect(details.textContent).toContain('FailoverError');
    expect(details.textContent).toContain('handleAssistantFailover');
    expect(details.textContent).toContain('invalid_request_error');
    // the stack never sits outside the fold
    expect(error.textContent!.replace(details.textContent!, '')).not.toContain('handleAssistantFailover');
  });

  it('says inside the fold which rule chose the code and on what signal', () => {
    const { container } = render(Timeline, { items });
    const details = container.querySelector('li[data-kind="error"] details')!;
    const why = details.querySelector('[data-testid="classification"]')!;
    expect(why.textContent).toContain('billing-text');
    expect(why.textContent).toContain('message~"credit balance is too low"');
  });

  it('places a failed turn where it failed, after the error status the SDK sent first', () => {
    const { container } = render(Timeline, {
      items: [
        timelineItem({ kind: 'status', at: at(0), state: 'running' }),
        // The turn span began at 1 s and failed at 5 s; the status change went out at 4.99 s.
        timelineItem({
          kind: 'error',
          at: at(1),
          endAt: at(5),
          durationMs: 4_000,
          name: 'invoke_agent support',
          code: 'AGT-PROVIDER-BILLING',
          statusCode: 2,
          details: { spanType: 'turn' },
          error: makeError({ at: at(5) }),
        }),
        timelineItem({ kind: 'status', at: at(4.99), state: 'error' }),
      ],
    });
    const rows = [...container.querySelectorAll('li.tl')];
    expect(rows.map((li) => li.getAttribute('data-kind'))).toEqual(['status', 'status', 'error']);
    expect(rows[2].querySelector('.tl-when')?.textContent).toContain('+5.0 s');
    expect(rows[2].textContent).toContain('Turn invoke_agent support failed after 4.0 s');
  });

  it('says so when a session has no telemetry yet', () => {
    render(Timeline, { items: [] });
    expect(screen.getByText(/No telemetry recorded/)).toBeTruthy();
  });

  it('shows an agent CLI\'s log events as events, with their text and no duration', () => {
    const { container } = render(Timeline, {
      items: [
        timelineItem({ kind: 'log', at: at(0), name: 'gemini_cli.user_prompt', durationMs: 0, message: 'User prompt. Length: 25.', details: { prompt_length: 25 } }),
        timelineItem({ kind: 'log', at: at(1), name: 'claude_code.api_request', durationMs: 0, message: null }),
      ],
    });
    const [prompt, request] = [...container.querySelectorAll('li[data-kind="log"]')];
    expect(prompt.querySelector('.tl-kind')?.textContent).toBe('Event');
    expect(prompt.textContent).toContain('gemini_cli.user_prompt');
    expect(prompt.textContent).toContain('User prompt. Length: 25.');
    expect(request.textContent).not.toMatch(/\d+ ?ms/);
  });
});
