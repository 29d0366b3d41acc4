// drizzle-kit: generates SQL migrations from every module's schema.ts into ./migrations.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: [
    './src/store/schema.ts',
    './src/pipeline/schema.ts',
    './src/chat/schema.ts',
    './src/relay/schema.ts',
  ],
  out: './migrations',
  schemaFilter: ['core', 'chat', 'relay'],
});
