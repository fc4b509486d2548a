/** `npm run docs:scenarios`: regenerates docs/scenarios.md from schema/src/scenarios.ts. */
import fs from 'node:fs';
import path from 'node:path';
import { DOCS_PATH, renderScenarioDocs } from './docs.ts';

fs.mkdirSync(path.dirname(DOCS_PATH), { recursive: true });
fs.writeFileSync(DOCS_PATH, renderScenarioDocs());
console.log(`Wrote ${path.relative(process.cwd(), DOCS_PATH)}`);
