// Admin console sign-in: the ADMIN_PASSWORD, compared in constant time, opens a 24-hour cookie
// session stored as HMAC(ADMIN_SESSION_SECRET, token). Every other admin route requires it,
// and state-changing ones the CSRF header too.
import { and, eq, gt } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import {
  clearSessionCookies,
  newSessionToken,
  sessionTokenHash,
  setSessionCookies,
  type SessionCookie,
} from '../http/cookies.js';
import { checkCsrf } from '../http/csrf.js';
import { enforceRateLimit, MINUTE_MS } from '../http/rate-limit.js';
import { adminSessions } from '../schema.js';
import { hashToken, safeEqual } from '../tokens.js';

export const ADMIN_SESSION_SECONDS = 24 * 3600;
export const ADMIN_LOGIN_PER_MINUTE = 5;

export const adminLoginBody = z.object({
  password: z.string().min(1, 'password is required').max(1024),
});

export function adminCookie(ctx: RelayContext): SessionCookie {
  return { name: 'admin_session', path: '/admin', secure: ctx.config.NODE_ENV === 'production' };
}

/** onRequest guard for every admin route but login: a live session, then the CSRF check. */
export function requireAdmin(ctx: RelayContext) {
  const cookie = adminCookie(ctx);
  return async (request: FastifyRequest): Promise<void> => {
    const tokenHash = sessionTokenHash(request, cookie, ctx.config.ADMIN_SESSION_SECRET);
    if (!tokenHash) throw new AppError('unauthorized', 'Sign in to the admin console first');
    const [session] = await ctx.db
      .select({ id: adminSessions.id })
      .from(adminSessions)
      .where(
        and(
          eq(adminSessions.tokenHash, tokenHash),
          gt(adminSessions.expiresAt, new Date(ctx.now())),
        ),
      );
    if (!session) throw new AppError('unauthorized', 'The admin session has expired');
    checkCsrf(request);
  };
}

export function registerAdminLogin(scope: FastifyInstance, ctx: RelayContext): void {
  const cookie = adminCookie(ctx);
  scope.post('/login', async (request, reply) => {
    await enforceRateLimit(
      ctx,
      reply,
      `admin-login:${request.ip}`,
      ADMIN_LOGIN_PER_MINUTE,
      MINUTE_MS,
    );
    const { password } = adminLoginBody.parse(request.body ?? {});
    // Equal-length digests: the comparison takes as long whatever the input's length.
    if (!safeEqual(hashToken(password), hashToken(ctx.config.ADMIN_PASSWORD))) {
      throw new AppError('invalid_credentials', 'Invalid password');
    }
    const { token, tokenHash } = newSessionToken(ctx.config.ADMIN_SESSION_SECRET);
    await ctx.db.insert(adminSessions).values({
      tokenHash,
      expiresAt: new Date(ctx.now() + ADMIN_SESSION_SECONDS * 1000),
    });
    setSessionCookies(reply, cookie, token, ADMIN_SESSION_SECONDS);
    return { success: true };
  });
}

export function registerAdminLogout(scope: FastifyInstance, ctx: RelayContext): void {
  const cookie = adminCookie(ctx);
  scope.post('/logout', async (request, reply) => {
    const tokenHash = sessionTokenHash(request, cookie, ctx.config.ADMIN_SESSION_SECRET);
    if (tokenHash) await ctx.db.delete(adminSessions).where(eq(adminSessions.tokenHash, tokenHash));
    clearSessionCookies(reply, cookie);
    return { success: true };
  });
}
