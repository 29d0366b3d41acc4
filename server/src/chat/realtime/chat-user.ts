// The chat account behind a realtime connection. Connections carry the chat account id (our own
// tokens name it; an external provider's subject is mapped to it at authentication, see
// identities.ts), or the subject of a token that has no chat account (realtime-only users).
import { eq } from 'drizzle-orm';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { users } from '../schema.js';

/** Accounts found so far; an id never names another account, so entries never go stale. */
const MAX_CACHED = 10_000;

export type ChatUserResolver = (userId: string) => Promise<string | undefined>;

export function createChatUserResolver(ctx: Pick<ChatContext, 'db'>): ChatUserResolver {
  const cache = new Set<string>();
  return async (userId) => {
    if (cache.has(userId)) return userId;
    if (!isUuid(userId)) return undefined;
    const [row] = await ctx.db
      .select({ id: users.id, deactivatedAt: users.deactivatedAt })
      .from(users)
      .where(eq(users.id, userId));
    if (!row || row.deactivatedAt) return undefined;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.add(userId);
    return userId;
  };
}
