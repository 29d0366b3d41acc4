// Inputs of the seed 003 session aliases. A "session" is a conversation: a channel or a DM,
// and `session_id` is its channel id.
import { z } from 'zod';
import { MAX_DM_MEMBERS } from '../dms/schemas.js';

export const createSessionInput = z.object({
  /** The people to talk with (the caller is added); one makes a DM, more a group DM. */
  userIds: z
    .array(z.uuid())
    .min(1)
    .max(MAX_DM_MEMBERS - 1),
  /** Where; by default the oldest workspace the caller shares with all of them. */
  workspaceId: z.uuid().optional(),
});

export const listSessionsQuery = z.object({
  workspaceId: z.uuid().optional(),
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const sessionMessagesQuery = z.object({
  session_id: z.string().min(1).max(64),
  before: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const sessionSearchQuery = z.object({
  q: z.string().max(500),
  /** Only this conversation. */
  session_id: z.uuid().optional(),
  limit: z.string().optional(),
  cursor: z.string().optional(),
});
