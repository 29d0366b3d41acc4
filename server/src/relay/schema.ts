// The `relay` PostgreSQL schema: Kakao ↔ OpenClaw accounts, mappings, pairing and messages.
import { pgSchema } from 'drizzle-orm/pg-core';

export const relay = pgSchema('relay');
