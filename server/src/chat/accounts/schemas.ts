// Request bodies of the account routes.
import { z } from 'zod';

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,31}$/, '2–32 letters, digits, dots, dashes or underscores');

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());

/** Long enough to resist guessing, short enough that hashing cannot be abused. */
export const passwordSchema = z.string().min(8, 'at least 8 characters').max(256);

export const displayNameSchema = z.string().trim().min(1).max(80);

export const registerInput = z.object({
  email: emailSchema,
  username: usernameSchema,
  password: passwordSchema,
  displayName: displayNameSchema.optional(),
});
export type RegisterInput = z.input<typeof registerInput>;

export const loginInput = z
  .object({
    /** An email or a username. */
    login: z.string().trim().toLowerCase().min(1).max(254).optional(),
    email: z.string().trim().toLowerCase().min(1).max(254).optional(),
    username: z.string().trim().toLowerCase().min(1).max(254).optional(),
    password: z.string().min(1).max(256),
  })
  .refine((v) => v.login ?? v.email ?? v.username, {
    message: 'login (email or username) is required',
  })
  .transform((v) => ({ login: (v.login ?? v.email ?? v.username)!, password: v.password }));
export type LoginInput = z.input<typeof loginInput>;

export const refreshInput = z.object({ refreshToken: z.string().min(1).max(200) });

const httpUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), 'an http(s) URL');

export const customStatusSchema = z.object({
  emoji: z.string().trim().max(64).default(''),
  text: z.string().trim().max(100).default(''),
  expiresAt: z.iso.datetime({ offset: true }).nullable().default(null),
});

export const notificationSettingsSchema = z
  .object({
    /** Which messages notify: everything, mentions and DMs only, or nothing. */
    level: z.enum(['all', 'mentions', 'none']).optional(),
    email: z.boolean().optional(),
    sound: z.boolean().optional(),
    /** ISO time until which nothing notifies (do not disturb). */
    mutedUntil: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict();

export const updateProfileInput = z
  .object({
    displayName: displayNameSchema.optional(),
    avatarUrl: httpUrl.nullable().optional(),
    statusMessage: z.string().trim().max(140).nullable().optional(),
    customStatus: customStatusSchema.nullable().optional(),
    notificationSettings: notificationSettingsSchema.optional(),
    theme: z.enum(['light', 'dark', 'system']).optional(),
  })
  .strict();
export type UpdateProfileInput = z.input<typeof updateProfileInput>;

export const statusInput = z
  .object({
    statusMessage: z.string().trim().max(140).nullable().optional(),
    customStatus: customStatusSchema.nullable().optional(),
  })
  .strict();
