// The `core` PostgreSQL schema: tables owned by the realtime core, pipeline and push API.
import { pgSchema } from 'drizzle-orm/pg-core';

export const core = pgSchema('core');
