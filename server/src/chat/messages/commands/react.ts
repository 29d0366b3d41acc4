// Emoji reactions: adding one twice or removing one that is not there changes nothing and sends
// no event. Each change's event carries the emoji's new count; writes to one message take turns
// (its row is locked after the channel's seq row), so the counts follow the events' order.
import { and, eq, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { Transaction } from '../../../store/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { reactions } from '../../schema.js';
import { channelTransaction } from '../channel-transaction.js';
import type { MessageView } from '../presenters/message.js';
import { lockMessage, requirePostableMessage, viewMessage } from '../queries.js';
import { emojiSchema } from '../schemas.js';

async function countOf(tx: Transaction, messageId: string, emoji: string): Promise<number> {
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(reactions)
    .where(and(eq(reactions.messageId, messageId), eq(reactions.emoji, emoji)));
  return Number(row?.count ?? 0);
}

async function react(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  rawEmoji: string,
  add: boolean,
): Promise<MessageView> {
  const emoji = emojiSchema.parse(rawEmoji);
  const { message } = await requirePostableMessage(ctx, userId, messageId);
  const row = await channelTransaction(ctx, message.channelId, async (tx, outbox) => {
    const row = await lockMessage(tx, message.id);
    if (row.deletedAt) throw new AppError('gone', 'This message was deleted.');
    const where = and(
      eq(reactions.messageId, row.id),
      eq(reactions.emoji, emoji),
      eq(reactions.userId, userId),
    );
    const changed = add
      ? await tx
          .insert(reactions)
          .values({ messageId: row.id, userId, emoji, createdAt: new Date(ctx.now()) })
          .onConflictDoNothing()
          .returning({ emoji: reactions.emoji })
      : await tx.delete(reactions).where(where).returning({ emoji: reactions.emoji });
    if (changed.length > 0) {
      await channelEvent(outbox, row.channelId, add ? 'reaction.added' : 'reaction.removed', {
        messageId: row.id,
        emoji,
        userId,
        count: await countOf(tx, row.id, emoji),
      });
    }
    return row;
  });
  return viewMessage(ctx.db, row, userId);
}

/** Adds the user's reaction (the REST routes and the WebSocket `react` op). */
export const addReaction = (ctx: ChatContext, userId: string, messageId: string, emoji: string) =>
  react(ctx, userId, messageId, emoji, true);

/** Removes the user's reaction (the REST routes and the WebSocket `react` op). */
export const removeReaction = (
  ctx: ChatContext,
  userId: string,
  messageId: string,
  emoji: string,
) => react(ctx, userId, messageId, emoji, false);
