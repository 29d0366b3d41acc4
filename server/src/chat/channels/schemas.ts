// Request bodies and queries of the channel routes.
import { z } from 'zod';
import { pageQuery } from '../workspaces/pagination.js';

export const channelNameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,79}$/,
    '1–80 lowercase letters, digits, dashes or underscores, starting with a letter or digit',
  );

const topicSchema = z.string().trim().max(250);

export const createChannelInput = z.object({
  name: channelNameSchema,
  kind: z.enum(['public', 'private']).default('public'),
  topic: topicSchema.optional(),
  purpose: topicSchema.optional(),
  /** Workspace members to add besides the creator. */
  memberIds: z.array(z.uuid()).max(1000).default([]),
});

export const updateChannelInput = z
  .object({
    name: channelNameSchema.optional(),
    topic: topicSchema.optional(),
    purpose: topicSchema.optional(),
  })
  .strict()
  .refine((v) => v.name !== undefined || v.topic !== undefined || v.purpose !== undefined, {
    message: 'give name, topic or purpose',
  });

export const addMembersInput = z.object({ userIds: z.array(z.uuid()).min(1).max(1000) });

export const listChannelsQuery = pageQuery.extend({
  /** `true`: only channels the caller is a member of. */
  member: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

export const channelParams = z.object({ channelId: z.string().min(1).max(64) });
export const channelMemberParams = channelParams.extend({ userId: z.string().min(1).max(64) });
export const workspaceChannelParams = z.object({ workspaceId: z.string().min(1).max(64) });
