import { defineConfig } from 'drizzle-kit';

/** The account Durable Object's SQLite schema; `npm run db:generate` writes its migrations. */
export default defineConfig({
  dialect: 'sqlite',
  driver: 'durable-sqlite',
  schema: './durable-objects/schema.ts',
  out: './durable-objects/drizzle',
});
