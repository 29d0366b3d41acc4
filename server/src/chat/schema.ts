// The `chat` PostgreSQL schema: workspaces, channels, members, messages and their satellites.
import { pgSchema } from 'drizzle-orm/pg-core';

export const chat = pgSchema('chat');
