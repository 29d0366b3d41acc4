// Deleting a message leaves a tombstone (empty body, no mentions, reactions or pin) so seqs and
// threads stay whole; it stops counting as a mention or as unread at once. Its author may delete
// it while they may post; channel and workspace admins always. Deleting a deleted message is a
// no-op.
import { eq, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { forgetDeletedMessage } from '../../read-state/commands/forget-deleted-message.js';
import { messages, reactions } from '../../schema.js';
import { channelTransaction } from '../channel-transaction.js';
import { presentMessage } from '../presenters/message.js';
import { lockMessage, requireMessage } from '../queries.js';
import { threadSummary } from './thread-summary.js';

export async function deleteMessage(
  ctx: ChatContext,
  userId: string,
  messageId: string,
): Promise<void> {
  const { message, access } = await requireMessage(ctx, userId, messageId);
  const isAuthor = message.authorId === userId;
  if (!access.canModerate && !(isAuthor && access.canPost)) {
    throw new AppError(
      'forbidden',
      isAuthor && access.channel.archivedAt
        ? 'This channel is archived.'
        : 'Only its author or a channel admin may delete a message.',
    );
  }
  if (message.deletedAt) return;
  await channelTransaction(ctx, message.channelId, async (tx, outbox) => {
    const row = await lockMessage(tx, message.id);
    if (row.deletedAt) return;
    const [deleted] = await tx
      .update(messages)
      .set({
        body: '',
        mentionUserIds: [],
        mentionsChannel: false,
        mentionsHere: false,
        pinnedAt: null,
        pinnedBy: null,
        deletedAt: new Date(ctx.now()),
      })
      .where(eq(messages.id, row.id))
      .returning();
    await tx.delete(reactions).where(eq(reactions.messageId, row.id));
    const lastMessageSeq = await forgetDeletedMessage(tx, outbox, row);
    await channelEvent(outbox, row.channelId, 'message.deleted', {
      message: presentMessage(deleted!),
      ...(lastMessageSeq === undefined ? {} : { lastMessageSeq }),
    });
    if (row.threadRootId) {
      // The thread shows one reply fewer; the tombstone stays in it.
      await tx
        .update(messages)
        .set({ replyCount: sql`greatest(${messages.replyCount} - 1, 0)` })
        .where(eq(messages.id, row.threadRootId));
      await channelEvent(
        outbox,
        row.channelId,
        'thread.updated',
        await threadSummary(tx, row.threadRootId),
      );
    }
  });
}
