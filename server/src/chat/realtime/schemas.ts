// Chat's WebSocket op frames (seed 002's names: `conversation_id` is a channel or DM id).
import { z } from 'zod';

const conversationId = z.string().min(1).max(64);

export const joinFrame = z.object({ conversation_id: conversationId });
export const leaveFrame = joinFrame;
export const typingFrame = joinFrame;

export const readFrame = z.object({
  conversation_id: conversationId,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  unread: z.boolean().optional(),
});

/** Seed 002 clients send `body: { text }`; ours send the markdown source as a string. */
export const sendFrame = z.object({
  conversation_id: conversationId,
  body: z.union([z.string(), z.object({ text: z.string() }).transform((b) => b.text)]),
  temp_id: z.string().min(1).max(64).optional(),
  thread_root_id: z.string().min(1).max(64).optional(),
});

export const reactFrame = z.object({
  message_id: z.string().min(1).max(64),
  emoji: z.string().min(1).max(64),
  remove: z.boolean().optional(),
});
