import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/src/db/index.ts',
  out: './schema/drizzle',
});
