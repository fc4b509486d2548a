import { defineConfig } from 'vitest/config';

// The fault suite (`npm run test:faults`, also run by CI): real child processes, a throwaway
// Postgres cluster, fuzzing and a soak. One file at a time so the tests do not compete for the
// two cores and skew each other's timing and memory figures.
export default defineConfig({
  test: {
    name: 'faults',
    root: new URL('../..', import.meta.url).pathname,
    environment: 'node',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
