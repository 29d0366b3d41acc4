// What agents send to the relay's agent API, as zod schemas (a failure renders as 400).
import { z } from 'zod';
import { skillResponseSchema } from '../replies/skill-response.js';

export const replyInput = z.object({
  messageId: z.uuid(),
  response: skillResponseSchema,
});

export const ackInput = z.object({
  messageIds: z.array(z.uuid()).min(1).max(100),
});

export const generateCodeInput = z
  .object({
    expirySeconds: z.number().int().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .default({});

export const unpairInput = z.object({
  conversationKey: z.string().min(1).max(500),
});

export const sessionTokenParams = z.object({
  token: z.string().min(1).max(200),
});
