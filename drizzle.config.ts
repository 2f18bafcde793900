import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new migration into sql/ from shared/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './shared/db/schema.ts',
  out: './sql',
});
