import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources, not their built dist/ (the
// "@faultline/source" condition of their "exports", as in tsconfig.json). Test files run in the
// `ssr` environment, global setup in Vitest's own `__vitest__` one; the workers get the
// conditions as --conditions flags.
const sourceFirst = { resolve: { conditions: ['@faultline/source', 'node', 'development|production'] } };

// Two projects: Node-side packages (schema, sdk, collector, cross-package tests) and the
// dashboard's component tests in jsdom. Browser tests drive real Chromium from the node project.
export default defineConfig({
  test: {
    // PGlite costs ~0.7 GiB per instance; two workers on a 2-core machine.
    maxWorkers: 2,
    projects: [
      {
        environments: { ssr: sourceFirst, __vitest__: sourceFirst },
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
