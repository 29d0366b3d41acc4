// Pinning and unpinning: anyone who may post in the channel; pinning a pinned message (or
// unpinning an unpinned one) changes nothing and sends no event.
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { messages } from '../../schema.js';
import { channelTransaction } from '../channel-transaction.js';
import type { MessageView } from '../presenters/message.js';
import { lockMessage, requirePostableMessage, viewMessage } from '../queries.js';

export async function setPinned(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  pinned: boolean,
): Promise<MessageView> {
  const { message } = await requirePostableMessage(ctx, userId, messageId);
  const row = await channelTransaction(ctx, message.channelId, async (tx, outbox) => {
    const row = await lockMessage(tx, message.id);
    if (row.deletedAt) throw new AppError('gone', 'This message was deleted.');
    if ((row.pinnedAt !== null) === pinned) return row;
    const [updated] = await tx
      .update(messages)
      .set(
        pinned
          ? { pinnedAt: new Date(ctx.now()), pinnedBy: userId }
          : { pinnedAt: null, pinnedBy: null },
      )
      .where(eq(messages.id, row.id))
      .returning();
    await channelEvent(outbox, row.channelId, pinned ? 'message.pinned' : 'message.unpinned', {
      message: await viewMessage(tx, updated!),
    });
    return updated!;
  });
  return viewMessage(ctx.db, row, userId);
}
