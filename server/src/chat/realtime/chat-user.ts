// The chat account behind a realtime connection. Connections carry the chat account id (our own
// tokens name it; an external provider's subject is mapped to it at authentication, see
// identities.ts), or the subject of a token that has no chat account (realtime-only users).
import { eq } from 'drizzle-orm';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { users } from '../schema.js';

/**
 * Ids found so far, with whether an account has them. An id never names another account, and no
 * account is ever created under an id a token already carries (accounts get fresh ids; tokens
 * naming them are issued after the account's commit), so a realtime-only user's handshake costs
 * no lookup after the first either.
 */
const MAX_CACHED = 10_000;

export type ChatUserResolver = (userId: string) => Promise<string | undefined>;

export function createChatUserResolver(ctx: Pick<ChatContext, 'db'>): ChatUserResolver {
  const isChatUser = new Map<string, boolean>();
  return async (userId) => {
    const known = isChatUser.get(userId);
    if (known !== undefined) return known ? userId : undefined;
    if (!isUuid(userId)) return undefined;
    const [row] = await ctx.db
      .select({ id: users.id, deactivatedAt: users.deactivatedAt })
      .from(users)
      .where(eq(users.id, userId));
    if (row?.deactivatedAt) return undefined;
    if (isChatUser.size >= MAX_CACHED) isChatUser.clear();
    isChatUser.set(userId, !!row);
    return row ? userId : undefined;
  };
}
