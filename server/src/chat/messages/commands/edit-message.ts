// Editing a message's text: its author only (moderators may delete others' messages, never put
// words in their mouths), in a channel they may still post in. Mentions are parsed again; the
// people a change newly mentions are not counted again (an edit is not a new notification).
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { messages } from '../../schema.js';
import { channelTransaction } from '../channel-transaction.js';
import { parseMentions } from '../mentions.js';
import type { MessageView } from '../presenters/message.js';
import { channelMemberIds, lockMessage, requireMessage, viewMessage } from '../queries.js';
import { editMessageInput, type EditMessageInput } from '../schemas.js';

export async function editMessage(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  input: EditMessageInput,
): Promise<MessageView> {
  const { body } = editMessageInput.parse(input);
  const { message, access } = await requireMessage(ctx, userId, messageId);
  if (message.authorId !== userId) {
    throw new AppError('forbidden', 'Only its author may edit a message.');
  }
  if (!access.canPost) {
    throw new AppError(
      'forbidden',
      access.channel.archivedAt ? 'This channel is archived.' : 'Join the channel first.',
    );
  }
  if (message.deletedAt) throw new AppError('gone', 'This message was deleted.');
  const parsed = parseMentions(body);
  const mentionUserIds = await channelMemberIds(ctx, message.channelId, parsed.usernames);
  const edited = await channelTransaction(ctx, message.channelId, async (tx, outbox) => {
    const row = await lockMessage(tx, message.id);
    if (row.deletedAt) throw new AppError('gone', 'This message was deleted.');
    if (row.body === body) return row;
    const [updated] = await tx
      .update(messages)
      .set({
        body,
        mentionUserIds,
        mentionsChannel: parsed.channel,
        mentionsHere: parsed.here,
        editedAt: new Date(ctx.now()),
      })
      .where(eq(messages.id, row.id))
      .returning();
    await channelEvent(outbox, row.channelId, 'message.updated', {
      message: await viewMessage(tx, updated!),
    });
    return updated!;
  });
  return viewMessage(ctx.db, edited, userId);
}
