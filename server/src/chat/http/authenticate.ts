// Who is calling a chat route: the access token is verified by the realtime core's authenticator
// (our own HS256 tokens, or an external identity provider's RS256/ES256/JWKS tokens), then
// resolved to a chat account. An external identity's first call creates its account.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import { AuthError } from '../../realtime/index.js';
import type { ChatContext } from '../context.js';
import { uniqueViolation } from '../db-errors.js';
import { isUuid, newId } from '../ids.js';
import { users } from '../schema.js';

export interface ChatUser {
  readonly id: string;
  readonly username: string;
}

export type Authenticate = (request: FastifyRequest) => Promise<ChatUser>;

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match)
    throw new AppError('unauthorized', 'Send an access token: Authorization: Bearer <token>.');
  return match[1]!;
}

export function createAuthenticate(ctx: ChatContext): Authenticate {
  return async (request) => {
    let subject: string;
    try {
      subject = (await ctx.realtime.auth.verify(bearer(request))).userId;
    } catch (err) {
      if (err instanceof AuthError) {
        throw new AppError(
          err.reason === 'expired' ? 'token_expired' : 'unauthorized',
          err.message,
        );
      }
      throw err;
    }
    if (isUuid(subject)) {
      const [row] = await ctx.db
        .select({ id: users.id, username: users.username, deactivatedAt: users.deactivatedAt })
        .from(users)
        .where(eq(users.id, subject));
      if (row) {
        if (row.deactivatedAt) throw new AppError('unauthorized', 'This account is deactivated.');
        return { id: row.id, username: row.username };
      }
    }
    return resolveExternal(ctx, subject);
  };
}

/** The account of an externally issued identity, created on its first call. */
async function resolveExternal(ctx: ChatContext, subject: string): Promise<ChatUser> {
  const [existing] = await ctx.db
    .select({ id: users.id, username: users.username, deactivatedAt: users.deactivatedAt })
    .from(users)
    .where(eq(users.externalSubject, subject));
  if (existing) {
    if (existing.deactivatedAt) throw new AppError('unauthorized', 'This account is deactivated.');
    return { id: existing.id, username: existing.username };
  }
  const base =
    subject
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '')
      .slice(0, 24) || 'user';
  const username = `${/^[a-z0-9]/.test(base) ? base : `u${base}`}-${randomBytes(3).toString('hex')}`;
  try {
    const [row] = await ctx.db
      .insert(users)
      .values({
        id: newId(),
        username,
        displayName: subject.slice(0, 80),
        externalSubject: subject,
      })
      .returning({ id: users.id, username: users.username });
    ctx.logger.info({ user: row!.id }, 'created the account of an external identity');
    return row!;
  } catch (err) {
    // Two first calls at once: the other one created it.
    if (uniqueViolation(err) === 'users_external_subject_key') return resolveExternal(ctx, subject);
    throw err;
  }
}
