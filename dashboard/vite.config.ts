import { defaultClientConditions, defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// In dev the collector runs separately; the proxy makes the API same-origin, as in production
// where the collector serves dist/ itself.
const collector = process.env.FAULTLINE_URL ?? 'http://127.0.0.1:4318';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte()],
  // Workspace packages (the contract, the collector's typed client) from their TypeScript sources.
  resolve: { conditions: ['@faultline/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      // The contract's sources have no side effects (its package.json says so for dist/), but its
      // catalog module builds lookup maps at load time, which the bundler must otherwise keep;
      // the dashboard only needs a few constants from it (the catalog itself comes from /api/codes).
      treeshake: { moduleSideEffects: [{ test: /[\\/]schema[\\/]src[\\/]/, sideEffects: false }] },
    },
  },
  server: {
    proxy: {
      '/api': { target: collector, changeOrigin: true },
      '/v1': { target: collector, changeOrigin: true },
      '/healthz': { target: collector, changeOrigin: true },
    },
  },
});
