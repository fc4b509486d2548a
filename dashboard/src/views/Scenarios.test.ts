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
  number: 4,
  source: 'seed 004',
  description: 'A billing failure was logged but never shown to the user.',
  stateFlow: 'running → error',
  expectFailed: true,
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  timeToDetect: { production: 'as soon as the error happens', productionMs: 0, testMs: 5000, testSetup: 'none' },
  timeToDetectMs: 5000,
  checks: [],
  variants: [],
  lastRun: null,
};

describe('Scenarios view', () => {
  it('explains a collector without the scenarios API instead of showing a raw 404, and cannot run', async () => {
    stubFetch({ '/api/scenarios': () => json({ error: { code: 'not_found', message: 'No route for GET /api/scenarios' } }, 404) });
    render(Scenarios);
    expect(await screen.findByText('This collector does not offer scenarios')).toBeTruthy();
    expect(screen.queryByText(/No route for GET/)).toBeNull();
    expect((screen.getByRole('button', { name: 'Run all scenarios' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('says none has run yet rather than "0 passed"', async () => {
    stubFetch({ '/api/scenarios': () => json([scenario, { ...scenario, id: 'other', title: 'Other' }]) });
    render(Scenarios);
    expect(await screen.findByText('2 scenarios, none run yet on this collector.')).toBeTruthy();
    expect(screen.queryByText(/0 of/)).toBeNull();
  });

  it('documents each scenario, runs one, keeps showing progress while the background run goes on, then the result', async () => {
    let finished = false;
    let runs = 0;
    const runStatus = (running: boolean) =>
      json({ running, ids: [scenario.id], startedAt: new Date().toISOString(), finishedAt: running ? null : new Date().toISOString(), exitCode: running ? null : 0, outputTail: '' }, running ? 202 : 200);
    const { calls } = stubFetch({
      '/api/scenarios': (url, init) =>
        url.pathname.endsWith('/run')
          ? runStatus(init?.method === 'POST' || !finished)
          : json([
              runs++ === 0 || !finished
                ? scenario
                : { ...scenario, lastRun: { passed: true, detectedCode: 'AGT-PROVIDER-BILLING', detectedState: 'error', detectMs: 840, sessionId: 'scn-1', at: new Date().toISOString(), detail: '', checks: [], variants: [] } },
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

    // Accepted (202) is not finished: the status still says running after a poll.
    await new Promise((r) => setTimeout(r, 1200));
    expect(screen.getByRole('status').textContent).toContain('Running billing-surface-error');
    finished = true;
    expect(await screen.findByText('passed', {}, { timeout: 3000 })).toBeTruthy();
    expect(screen.getByText(/every check passed/)).toBeTruthy();
    expect(screen.getByText(/in 840 ms/)).toBeTruthy();
  });
});

describe('Scenarios view words', () => {
  it('renders `code` in descriptions as code, never literal backticks, and shows no internal seed numbers', async () => {
    const worded = {
      ...scenario,
      description: 'The runtime never emitted a `faultline.session.status` span.',
      timeToDetect: { ...scenario.timeToDetect, production: 'under the 90 s `starting` watchdog' },
    };
    stubFetch({ '/api/scenarios': () => json([worded]) });
    const { container } = render(Scenarios);
    await screen.findByRole('heading', { name: scenario.title });
    const main = container.textContent ?? '';
    expect(main).not.toContain('`');
    expect([...container.querySelectorAll('code')].map((c) => c.textContent)).toEqual(expect.arrayContaining(['faultline.session.status', 'starting']));
    expect(main).not.toMatch(/\bSeed\b|\bseeds?\b/);
    expect(main).not.toContain('004');
  });
});
