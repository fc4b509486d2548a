import { defineConfig } from 'tsup';

// One entry per subpath export or bin in package.json. A new export: a line here and its block
// in "exports"; a new bin (e.g. `cli: 'src/cli.ts'`): a line here and "bin": {"name": "./dist/cli.js"}.
export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  // Dependencies stay imports: one @opentelemetry/api per process (a second copy breaks context).
  external: [/^@opentelemetry\//, /^@faultline\//],
  removeNodeProtocol: false,
});
