// Portal sessions, of two kinds sharing the `portal_session` cookie: an owner's (7 days, their
// account's routes) and a Kakao user's read-only one opened with a `/code` access code (30
// minutes, that one conversation's routes). Each kind is refused on the other's routes.
import { and, eq, gt } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/index.js';
import type { Database, Transaction } from '../../store/index.js';
import type { RelayContext } from '../context.js';
import {
  newSessionToken,
  sessionTokenHash,
  setSessionCookies,
  type SessionCookie,
} from '../http/cookies.js';
import { checkCsrf } from '../http/csrf.js';
import { portalSessions, portalUsers } from '../schema.js';

export const PORTAL_SESSION_SECONDS = 7 * 24 * 3600;
export const CODE_SESSION_SECONDS = 30 * 60;

export type PortalSession =
  | {
      readonly kind: 'user';
      readonly tokenHash: string;
      readonly userId: string;
      readonly email: string;
      readonly accountId: string;
      readonly userCreatedAt: Date;
    }
  | { readonly kind: 'code'; readonly tokenHash: string; readonly conversationKey: string };

export function portalCookie(ctx: RelayContext): SessionCookie {
  return { name: 'portal_session', path: '/portal', secure: ctx.config.NODE_ENV === 'production' };
}

const sessionsByRequest = new WeakMap<FastifyRequest, PortalSession>();

async function loadSession(
  ctx: RelayContext,
  request: FastifyRequest,
): Promise<PortalSession | undefined> {
  const tokenHash = sessionTokenHash(request, portalCookie(ctx), ctx.config.PORTAL_SESSION_SECRET);
  if (!tokenHash) return undefined;
  const [row] = await ctx.db
    .select({
      conversationKey: portalSessions.conversationKey,
      userId: portalUsers.id,
      email: portalUsers.email,
      accountId: portalUsers.accountId,
      userCreatedAt: portalUsers.createdAt,
    })
    .from(portalSessions)
    .leftJoin(portalUsers, eq(portalUsers.id, portalSessions.userId))
    .where(
      and(
        eq(portalSessions.tokenHash, tokenHash),
        gt(portalSessions.expiresAt, new Date(ctx.now())),
      ),
    );
  if (!row) return undefined;
  if (row.userId && row.email && row.accountId && row.userCreatedAt) {
    return {
      kind: 'user',
      tokenHash,
      userId: row.userId,
      email: row.email,
      accountId: row.accountId,
      userCreatedAt: row.userCreatedAt,
    };
  }
  if (row.conversationKey) {
    return { kind: 'code', tokenHash, conversationKey: row.conversationKey };
  }
  return undefined;
}

/** onRequest guard: a live session of `kind` (any kind when undefined), then the CSRF check. */
export function requirePortalSession(ctx: RelayContext, kind?: PortalSession['kind']) {
  return async (request: FastifyRequest): Promise<void> => {
    const session = await loadSession(ctx, request);
    if (!session) throw new AppError('unauthorized', 'Sign in to the portal first');
    if (kind && session.kind !== kind) {
      throw new AppError(
        'forbidden',
        kind === 'user'
          ? 'An access-code session can only read its conversation'
          : 'This route is for access-code sessions',
      );
    }
    checkCsrf(request);
    sessionsByRequest.set(request, session);
  };
}

/** The session the guard found. */
export function portalSessionOf(request: FastifyRequest): PortalSession {
  const session = sessionsByRequest.get(request);
  if (!session) throw new AppError('unauthorized');
  return session;
}

export function userSessionOf(request: FastifyRequest) {
  const session = portalSessionOf(request);
  if (session.kind !== 'user') throw new AppError('forbidden');
  return session;
}

export function codeSessionOf(request: FastifyRequest) {
  const session = portalSessionOf(request);
  if (session.kind !== 'code') throw new AppError('forbidden');
  return session;
}

/** Opens a session (row and cookies) for a user or for one conversation. */
export async function openPortalSession(
  ctx: RelayContext,
  db: Database | Transaction,
  reply: FastifyReply,
  owner: { userId: string } | { conversationKey: string },
): Promise<void> {
  const seconds = 'userId' in owner ? PORTAL_SESSION_SECONDS : CODE_SESSION_SECONDS;
  const { token, tokenHash } = newSessionToken(ctx.config.PORTAL_SESSION_SECRET);
  await db.insert(portalSessions).values({
    tokenHash,
    ...owner,
    expiresAt: new Date(ctx.now() + seconds * 1000),
  });
  setSessionCookies(reply, portalCookie(ctx), token, seconds);
}
