// Following a thread or leaving it, for anyone who may read it. Unfollowing is remembered, so
// only replying or being mentioned in it again makes the caller follow it again.
import { sql } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { threadFollows } from '../../schema.js';
import { requireMessage } from '../queries.js';

export async function setFollowing(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  following: boolean,
): Promise<{ threadRootId: string; following: boolean }> {
  const { message } = await requireMessage(ctx, userId, messageId);
  const rootId = message.threadRootId ?? message.id;
  const updatedAt = new Date(ctx.now());
  await ctx.db
    .insert(threadFollows)
    .values({ rootId, userId, following, updatedAt })
    .onConflictDoUpdate({
      target: [threadFollows.rootId, threadFollows.userId],
      set: { following, updatedAt: sql`excluded.updated_at` },
    });
  return { threadRootId: rootId, following };
}
