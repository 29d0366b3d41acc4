// Who is calling a chat route: the access token is verified by the realtime core's authenticator
// (our own HS256 tokens, or an external identity provider's RS256/ES256/JWKS tokens), then
// resolved to a chat account. An external identity's first contact creates its account (the
// realtime connections resolve it the same way, see realtime/identities.ts).
import type { FastifyRequest } from 'fastify';
import { eq } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import { AuthError, type Identity } from '../../realtime/index.js';
import { accountOfExternalIdentity } from '../accounts/commands/external-identity.js';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { users } from '../schema.js';

export interface ChatUser {
  readonly id: string;
  readonly username: string;
}

export type Authenticate = (request: FastifyRequest) => Promise<ChatUser>;

/** The bearer token a request carries, if it carries one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return (header ? /^Bearer\s+(\S+)$/i.exec(header) : null)?.[1];
}

// A write is verified by the rate limiter (whose user it counts) and then by the route: one
// signature check per request serves both.
const verified = new WeakMap<FastifyRequest, Promise<Identity>>();

/** The identity the request's bearer token proves, verified once per request. */
export function verifiedIdentity(ctx: ChatContext, request: FastifyRequest): Promise<Identity> {
  let identity = verified.get(request);
  if (!identity) {
    const token = bearerToken(request);
    identity = token
      ? ctx.realtime.auth.verify(token)
      : Promise.reject(
          new AppError('unauthorized', 'Send an access token: Authorization: Bearer <token>.'),
        );
    verified.set(request, identity);
  }
  return identity;
}

export function createAuthenticate(ctx: ChatContext): Authenticate {
  return async (request) => {
    let identity: Identity;
    try {
      identity = await verifiedIdentity(ctx, request);
    } catch (err) {
      if (err instanceof AuthError) {
        throw new AppError(
          err.reason === 'expired' ? 'token_expired' : 'unauthorized',
          err.message,
        );
      }
      throw err;
    }
    if (identity.external) {
      const account = await accountOfExternalIdentity(ctx, identity);
      if (account.deactivated) throw new AppError('unauthorized', 'This account is deactivated.');
      return { id: account.id, username: account.username };
    }
    // Our own tokens name the account itself.
    const [row] = isUuid(identity.userId)
      ? await ctx.db
          .select({ id: users.id, username: users.username, deactivatedAt: users.deactivatedAt })
          .from(users)
          .where(eq(users.id, identity.userId))
      : [];
    if (!row) throw new AppError('unauthorized', 'The access token names no chat account.');
    if (row.deactivatedAt) throw new AppError('unauthorized', 'This account is deactivated.');
    return { id: row.id, username: row.username };
  };
}
