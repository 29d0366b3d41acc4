// Archiving a channel (read-only for everyone, still listed) and bringing it back (managers).
// Asking for the state it is in already changes nothing.
import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { channels } from '../../schema.js';
import { presentChannel, presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { requireManagedChannel } from './manage-access.js';

export async function setChannelArchived(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  archived: boolean,
): Promise<MyChannelView> {
  const access = await requireManagedChannel(
    ctx,
    userId,
    channelId,
    archived ? 'archived' : 'unarchived',
    { allowArchived: true, notGeneral: archived },
  );
  const changed = await ctx.pipeline.transaction(async (tx, outbox) => {
    const [row] = await tx
      .update(channels)
      .set({ archivedAt: archived ? new Date(ctx.now()) : null, updatedAt: new Date(ctx.now()) })
      .where(
        and(
          eq(channels.id, access.channel.id),
          archived ? isNull(channels.archivedAt) : isNotNull(channels.archivedAt),
        ),
      )
      .returning();
    if (!row) return undefined;
    await channelEvent(outbox, row.id, archived ? 'channel.archived' : 'channel.unarchived', {
      channel: presentChannel(row),
    });
    return row;
  });
  return presentMyChannel(changed ?? access.channel, access.member);
}
