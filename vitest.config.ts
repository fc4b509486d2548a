import { defineConfig } from 'vitest/config';

// Two projects: Node-side packages (schema, sdk, collector, cross-package tests) and the
// dashboard's component tests in jsdom. Browser tests drive real Chromium from the node project.
export default defineConfig({
  test: {
    // PGlite costs ~0.7 GiB per instance; two workers on a 2-core machine.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'node',
          include: ['schema/**/*.test.ts', 'sdk/**/*.test.ts', 'collector/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/faults/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      'dashboard/vitest.config.ts',
    ],
  },
});
