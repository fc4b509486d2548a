import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  resolve: { conditions: ['@faultline/source', 'browser'] },
  test: {
    name: 'dashboard',
    root: import.meta.dirname,
    include: ['src/**/*.test.ts'],
    environment: 'jsdom',
    setupFiles: ['src/test/setup.ts'],
    // jsdom renders share two cores with the Node project's PGlite and Chromium tests; a view test
    // that takes ~1 s alone was seen at 5 s under that load.
    testTimeout: 20_000,
  },
});
