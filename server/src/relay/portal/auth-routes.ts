// Portal sign-up, sign-in (email and password, or a `/code` access code), sign-out and `me`.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { createAccount } from '../admin/account-commands.js';
import { clearSessionCookies } from '../http/cookies.js';
import { enforceRateLimit, forgetRateLimit, MINUTE_MS } from '../http/rate-limit.js';
import { portalAccessCodes, portalSessions, portalUsers } from '../schema.js';
import { accessCodeHash, normalizeCode } from '../tokens.js';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from '../../security/passwords.js';
import { uniqueViolation } from '../../store/index.js';
import { openPortalSession, portalCookie, portalSessionOf, userSessionOf } from './portal-auth.js';

export const SIGNUPS_PER_HOUR_PER_IP = 10;
export const LOGINS_PER_MINUTE_PER_IP = 20;
export const LOGINS_PER_MINUTE_PER_EMAIL = 5;
export const CODE_LOGINS_PER_MINUTE_PER_IP = 5;
const HOUR_MS = 3600_000;

const email = z
  .email()
  .max(320)
  .transform((value) => value.toLowerCase());
export const signupBody = z.object({ email, password: z.string().min(8).max(1024) });
export const portalLoginBody = z.object({ email, password: z.string().min(1).max(1024) });
export const accessCodeBody = z.object({ code: z.string().trim().min(1).max(64) });

export function registerPortalPublicRoutes(api: FastifyInstance, ctx: RelayContext): void {
  api.post('/signup', async (request, reply) => {
    await enforceRateLimit(
      ctx,
      reply,
      `portal-signup:${request.ip}`,
      SIGNUPS_PER_HOUR_PER_IP,
      HOUR_MS,
    );
    const body = signupBody.parse(request.body ?? {});
    const passwordHash = await hashPassword(body.password);
    const now = new Date(ctx.now());
    try {
      const created = await ctx.db.transaction(async (tx) => {
        const [taken] = await tx
          .select({ id: portalUsers.id })
          .from(portalUsers)
          .where(eq(portalUsers.email, body.email));
        if (taken) throw new AppError('email_taken');
        const { account, relayToken } = await createAccount(tx, {}, now);
        const [user] = await tx
          .insert(portalUsers)
          .values({
            email: body.email,
            passwordHash,
            accountId: account.id,
            createdAt: now,
            lastLoginAt: now,
          })
          .returning();
        await openPortalSession(ctx, tx, reply, { userId: user!.id });
        return { user: user!, relayToken };
      });
      ctx.logger.info({ userId: created.user.id }, 'portal user signed up');
      return reply.status(201).send({
        success: true,
        user: {
          id: created.user.id,
          email: created.user.email,
          accountId: created.user.accountId,
          createdAt: created.user.createdAt.toISOString(),
        },
        // Shown once, like every relay token; `POST /portal/api/token/regenerate` makes a new one.
        relayToken: created.relayToken,
      });
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new AppError('email_taken');
      throw err;
    }
  });

  api.post('/login', async (request, reply) => {
    await enforceRateLimit(
      ctx,
      reply,
      `portal-login-ip:${request.ip}`,
      LOGINS_PER_MINUTE_PER_IP,
      MINUTE_MS,
    );
    const body = portalLoginBody.parse(request.body ?? {});
    const emailKey = `portal-login-email:${body.email}`;
    await enforceRateLimit(ctx, reply, emailKey, LOGINS_PER_MINUTE_PER_EMAIL, MINUTE_MS);
    const [user] = await ctx.db.select().from(portalUsers).where(eq(portalUsers.email, body.email));
    const valid = user
      ? await verifyPassword(user.passwordHash, body.password)
      : await verifyAgainstDecoy(body.password);
    if (!user || !valid) throw new AppError('invalid_credentials', 'Invalid email or password');
    await forgetRateLimit(ctx, emailKey, MINUTE_MS);
    await ctx.db
      .update(portalUsers)
      .set({ lastLoginAt: new Date(ctx.now()) })
      .where(eq(portalUsers.id, user.id));
    await openPortalSession(ctx, ctx.db, reply, { userId: user.id });
    return {
      success: true,
      user: {
        id: user.id,
        email: user.email,
        accountId: user.accountId,
        createdAt: user.createdAt.toISOString(),
      },
    };
  });

  // A Kakao user's `/code` access code: single use, until it expires; opens a read-only view.
  api.post('/auth/code', async (request, reply) => {
    await enforceRateLimit(
      ctx,
      reply,
      `portal-code:${request.ip}`,
      CODE_LOGINS_PER_MINUTE_PER_IP,
      MINUTE_MS,
    );
    const { code: typed } = accessCodeBody.parse(request.body ?? {});
    const code = normalizeCode(typed) ?? typed.toUpperCase();
    const now = new Date(ctx.now());
    const conversationKey = await ctx.db.transaction(async (tx) => {
      const [used] = await tx
        .update(portalAccessCodes)
        .set({ usedAt: now, lastAccessedAt: now })
        .where(
          and(
            eq(portalAccessCodes.codeHash, accessCodeHash(ctx.config.PORTAL_SESSION_SECRET, code)),
            isNull(portalAccessCodes.usedAt),
            gt(portalAccessCodes.expiresAt, now),
          ),
        )
        .returning({ conversationKey: portalAccessCodes.conversationKey });
      if (!used) return undefined;
      await openPortalSession(ctx, tx, reply, { conversationKey: used.conversationKey });
      return used.conversationKey;
    });
    if (!conversationKey) throw new AppError('invalid_credentials', 'Invalid or expired code');
    return { success: true, conversationKey };
  });
}

/** Routes for any portal session (the guard is the caller's). */
export function registerPortalSessionRoutes(api: FastifyInstance, ctx: RelayContext): void {
  api.post('/logout', async (request, reply) => {
    const session = portalSessionOf(request);
    await ctx.db.delete(portalSessions).where(eq(portalSessions.tokenHash, session.tokenHash));
    clearSessionCookies(reply, portalCookie(ctx));
    return { success: true };
  });
}

/** `me`, for owners (the guard is the caller's). */
export function registerPortalMeRoute(api: FastifyInstance): void {
  api.get('/me', (request) => {
    const session = userSessionOf(request);
    return {
      user: {
        id: session.userId,
        email: session.email,
        accountId: session.accountId,
        createdAt: session.userCreatedAt.toISOString(),
      },
    };
  });
}
