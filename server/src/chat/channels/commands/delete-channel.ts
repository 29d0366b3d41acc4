// Deleting a channel (managers): a soft delete, after which it answers 404 everywhere and its
// name is free again. Its members hear channel.left on their own topics as well, so every
// client drops it even if it was not watching the channel.
import { and, eq, isNull } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { channelEvent, userEvents } from '../../events/channel-events.js';
import { channelMembers, channels } from '../../schema.js';
import { presentChannel } from '../presenters/channel.js';
import { requireManagedChannel } from './manage-access.js';

export async function deleteChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<void> {
  const { channel } = await requireManagedChannel(ctx, userId, channelId, 'deleted', {
    allowArchived: true,
    notGeneral: true,
  });
  await ctx.pipeline.transaction(async (tx, outbox) => {
    const [row] = await tx
      .update(channels)
      .set({ deletedAt: new Date(ctx.now()), updatedAt: new Date(ctx.now()) })
      .where(and(eq(channels.id, channel.id), isNull(channels.deletedAt)))
      .returning();
    if (!row) return;
    await channelEvent(outbox, row.id, 'channel.deleted', { channel: presentChannel(row) });
    const members = await tx
      .select({ userId: channelMembers.userId })
      .from(channelMembers)
      .where(eq(channelMembers.channelId, row.id));
    await userEvents(
      outbox,
      members.map((m) => m.userId),
      'channel.left',
      { channelId: row.id, workspaceId: row.workspaceId, reason: 'deleted' },
    );
  });
}
