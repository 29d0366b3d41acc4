// One message, for anyone who may read its channel.
import type { ChatContext } from '../../context.js';
import type { MessageView } from '../presenters/message.js';
import { requireMessage, viewMessage } from '../queries.js';

export async function getMessage(
  ctx: ChatContext,
  userId: string,
  messageId: string,
): Promise<MessageView> {
  const { message } = await requireMessage(ctx, userId, messageId);
  return viewMessage(ctx.db, message, userId);
}
