import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './collector/src/store/tables/index.ts',
  out: './collector/drizzle',
});
