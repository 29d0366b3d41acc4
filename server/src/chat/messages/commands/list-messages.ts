// A channel's (or DM's) message history, one window at a time (see ../window.ts).
import { and, eq, isNull } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { messages } from '../../schema.js';
import type { MessageView } from '../presenters/message.js';
import { viewMessages } from '../queries.js';
import { channelMessagesQuery, type ChannelMessagesQuery } from '../schemas.js';
import { readWindow, type WindowPage } from '../window.js';

export async function listMessages(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  query: ChannelMessagesQuery,
  options: { directOnly?: boolean } = {},
): Promise<WindowPage<MessageView>> {
  const { thread, ...window } = channelMessagesQuery.parse(query);
  const { channel } = await requireChannel(ctx, userId, channelId, 'read');
  if (options.directOnly && channel.kind !== 'dm' && channel.kind !== 'group_dm') {
    throw new AppError('not_found', 'No such direct message.');
  }
  const scope =
    thread === 'all'
      ? eq(messages.channelId, channel.id)
      : and(eq(messages.channelId, channel.id), isNull(messages.threadRootId))!;
  const page = await readWindow(ctx.db, scope, window);
  return { ...page, items: await viewMessages(ctx.db, page.items, userId) };
}
