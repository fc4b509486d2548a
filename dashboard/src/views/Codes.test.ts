import { fireEvent, render, screen } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CodeWithStats } from '@faultline/schema';
import Codes from './Codes.svelte';
import { navigate } from '../lib/router.ts';
import { json, stubFetch } from '../test/fixtures.ts';

const entry = (code: string, overrides: Partial<CodeWithStats>): CodeWithStats => ({
  code,
  category: 'provider',
  title: code,
  userMessage: '',
  userSaw: null,
  supportNote: '',
  operatorHint: '',
  retryable: 'no',
  httpStatus: null,
  timeoutKind: null,
  count: 0,
  sessions: 0,
  lastSeen: null,
  ...overrides,
});

const catalog = [
  entry('AGT-PROVIDER-BILLING', {
    title: 'AI provider account out of credits',
    userMessage: '{provider} could not run {model} because the account is out of credits.',
    supportNote: 'Tell the customer the AI account needs more credits.',
    count: 3,
    sessions: 2,
    lastSeen: new Date().toISOString(),
  }),
  entry('AGT-TIMEOUT-CLI-EXEC', { category: 'timeout', title: 'Coding agent timed out', userMessage: 'The coding agent did not finish within the time limit.' }),
];

describe('Codes view', () => {
  // The route store outlives a test; start each at the bare view.
  beforeEach(() => navigate('/codes'));

  it('finds a code by the words a customer used, and keeps them in the URL', async () => {
    stubFetch({ '/api/codes': () => json(catalog) });
    render(Codes);
    expect(await screen.findByText('AGT-TIMEOUT-CLI-EXEC')).toBeTruthy();

    const box = screen.getByLabelText('Words in the message or advice');
    await fireEvent.input(box, { target: { value: 'out of credits' } });
    await fireEvent.submit(box.closest('form')!);
    expect(new URL(location.href).searchParams.get('q')).toBe('out of credits');
    await screen.findByText('1 code of 2, the ones seen most recently first.');
    expect(screen.queryByText('AGT-TIMEOUT-CLI-EXEC')).toBeNull();
    expect(screen.getByText('AGT-PROVIDER-BILLING')).toBeTruthy();
  });

  it('separates codes never seen from those that fired, and does not count zeros', async () => {
    stubFetch({ '/api/codes': () => json(catalog) });
    render(Codes);
    expect(await screen.findByRole('heading', { name: 'Not seen yet' })).toBeTruthy();
    expect(screen.getByText(/3 errors in 2 sessions/)).toBeTruthy();
    expect(screen.getByText(/timeout · never seen/)).toBeTruthy();
    expect(screen.queryByText(/0 errors/)).toBeNull();
  });
});
