import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Scenarios from './Scenarios.svelte';
import type { Scenario } from '../lib/api.ts';
import { json, stubFetch } from '../test/fixtures.ts';

const scenario: Scenario = {
  id: 'billing-surface-error',
  title: 'Billing error reaches the webchat',
  seed: '004',
  trigger: 'Anthropic answers 400 invalid_request_error with a credit-balance message',
  expectedCode: 'AGT-PROVIDER-BILLING',
  expectedState: 'error',
  expectedMessage: 'Your anthropic account is out of credit.',
  timeToDetectMs: 5000,
  lastRun: null,
};

describe('Scenarios view', () => {
  it('documents each scenario, runs one and shows progress then the result', async () => {
    let finish: (r: Response) => void = () => {};
    let runs = 0;
    const { calls } = stubFetch({
      '/api/scenarios': (url) =>
        url.pathname.endsWith('/run')
          ? new Promise<Response>((resolve) => (finish = resolve))
          : json([
              runs++ === 0
                ? scenario
                : { ...scenario, lastRun: { passed: true, detectedCode: 'AGT-PROVIDER-BILLING', detectMs: 840, at: new Date().toISOString(), detail: null } },
            ]),
    });
    render(Scenarios);
    expect(await screen.findByRole('heading', { name: scenario.title })).toBeTruthy();
    expect(screen.getByText(scenario.trigger)).toBeTruthy();
    expect(screen.getByText('never run')).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: `Run scenario ${scenario.title}` }));
    expect(screen.getByRole('status').textContent).toContain('Running billing-surface-error');
    const post = calls.find((c) => c.url.pathname === '/api/scenarios/run')!;
    expect(post.init?.method).toBe('POST');
    expect(JSON.parse(String(post.init?.body))).toEqual({ id: scenario.id });

    finish(json({ ok: true }));
    expect(await screen.findByText('passed')).toBeTruthy();
    expect(screen.getByText(/in 840 ms/)).toBeTruthy();
  });
});
