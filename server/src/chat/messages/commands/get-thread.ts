// A thread: its root and a window of its replies (asking with a reply's id shows its thread).
import { eq } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { messages } from '../../schema.js';
import type { MessageView } from '../presenters/message.js';
import { requireMessage, viewMessage, viewMessages } from '../queries.js';
import type { WindowQuery } from '../schemas.js';
import { readWindow, type WindowPage } from '../window.js';

export async function getThread(
  ctx: ChatContext,
  userId: string,
  messageId: string,
  query: WindowQuery,
): Promise<WindowPage<MessageView> & { root: MessageView }> {
  const found = await requireMessage(ctx, userId, messageId);
  const root = found.message.threadRootId
    ? (await requireMessage(ctx, userId, found.message.threadRootId)).message
    : found.message;
  const page = await readWindow(ctx.db, eq(messages.threadRootId, root.id), query);
  const [rootView, items] = await Promise.all([
    viewMessage(ctx.db, root, userId),
    viewMessages(ctx.db, page.items, userId),
  ]);
  return { root: rootView, ...page, items };
}
