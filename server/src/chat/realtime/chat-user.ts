// The chat account behind a realtime connection. Connections carry the token's subject: our own
// tokens' subject is the account id, an external identity provider's is matched by
// `users.external_subject` (the account its first REST call created).
import { eq } from 'drizzle-orm';
import type { ChatContext } from '../context.js';
import { isUuid } from '../ids.js';
import { users } from '../schema.js';

/** Subjects resolved so far; the mapping never changes, so entries never go stale. */
const MAX_CACHED = 10_000;

export type ChatUserResolver = (subject: string) => Promise<string | undefined>;

export function createChatUserResolver(ctx: Pick<ChatContext, 'db'>): ChatUserResolver {
  const cache = new Map<string, string>();
  return async (subject) => {
    const cached = cache.get(subject);
    if (cached) return cached;
    const condition = isUuid(subject) ? eq(users.id, subject) : eq(users.externalSubject, subject);
    let [row] = await ctx.db
      .select({ id: users.id, deactivatedAt: users.deactivatedAt })
      .from(users)
      .where(condition);
    if (!row && isUuid(subject)) {
      [row] = await ctx.db
        .select({ id: users.id, deactivatedAt: users.deactivatedAt })
        .from(users)
        .where(eq(users.externalSubject, subject));
    }
    if (!row || row.deactivatedAt) return undefined;
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(subject, row.id);
    return row.id;
  };
}
