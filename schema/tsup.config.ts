import { defineConfig } from 'tsup';

// One entry per subpath export in package.json (`.` → index, `./api` → api, …). A new export is a
// line here plus its block in "exports" (and "typesVersions", for TypeScript's node10 resolution).
export default defineConfig({
  entry: { index: 'src/index.ts', api: 'src/api.ts', 'operator-rules': 'src/operator-rules.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Also bundled by the dashboard: plain ES2022 runs in every browser it supports.
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
});
