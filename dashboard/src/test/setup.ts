import { afterEach, vi } from 'vitest';

// Every test starts at / with no token and real fetch stubs of its own.
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  localStorage.clear();
  history.replaceState(null, '', '/');
});

// jsdom does not implement scrolling; navigation calls it.
window.scrollTo = () => {};
