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

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match)
    throw new AppError('unauthorized', 'Send an access token: Authorization: Bearer <token>.');
  return match[1]!;
}

export function createAuthenticate(ctx: ChatContext): Authenticate {
  return async (request) => {
    let identity: Identity;
    try {
      identity = await ctx.realtime.auth.verify(bearer(request));
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
