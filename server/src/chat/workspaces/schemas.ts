// Request bodies and queries of the workspace routes.
import { z } from 'zod';
import { emailSchema } from '../accounts/schemas.js';

export const workspaceNameSchema = z.string().trim().min(1).max(80);

export const workspaceSlugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/,
    '1–48 letters, digits or dashes, not starting or ending with a dash',
  );

export const createWorkspaceInput = z.object({
  name: workspaceNameSchema,
  /** Derived from the name when left out. */
  slug: workspaceSlugSchema.optional(),
});

export const updateWorkspaceInput = z
  .object({ name: workspaceNameSchema.optional(), slug: workspaceSlugSchema.optional() })
  .strict()
  .refine((v) => v.name !== undefined || v.slug !== undefined, {
    message: 'give name or slug',
  });

export const workspaceRoleSchema = z.enum(['owner', 'admin', 'member']);

export const updateMemberInput = z.object({ role: workspaceRoleSchema }).strict();

const DAY_SECONDS = 86_400;

export const createInviteInput = z
  .object({
    /** Binds the invite to the account with this email. */
    email: emailSchema.optional(),
    role: z.enum(['admin', 'member']).default('member'),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * DAY_SECONDS)
      .default(7 * DAY_SECONDS),
    maxUses: z.number().int().min(1).max(10_000).default(1),
  })
  .strict();

export const acceptInviteInput = z.object({ code: z.string().trim().min(1).max(200) });

export const workspaceParams = z.object({ workspaceId: z.string().min(1).max(64) });
export const memberParams = workspaceParams.extend({ userId: z.string().min(1).max(64) });
export const inviteParams = workspaceParams.extend({ inviteId: z.string().min(1).max(64) });
