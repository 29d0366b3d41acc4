// Renaming a channel or changing its topic or purpose (channel or workspace managers).
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent } from '../../events/channel-events.js';
import { channels } from '../../schema.js';
import { presentChannel, presentMyChannel, type MyChannelView } from '../presenters/channel.js';
import { updateChannelInput } from '../schemas.js';
import { requireManagedChannel } from './manage-access.js';
import { NAME_TAKEN_CONSTRAINT } from './create-channel.js';
import { uniqueViolation } from '../../../store/index.js';

export async function updateChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
  input: unknown,
): Promise<MyChannelView> {
  const access = await requireManagedChannel(ctx, userId, channelId, 'renamed');
  const patch = updateChannelInput.parse(input);
  try {
    return await ctx.pipeline.transaction(async (tx, outbox) => {
      const [row] = await tx
        .update(channels)
        .set({ ...patch, updatedAt: new Date(ctx.now()) })
        .where(eq(channels.id, access.channel.id))
        .returning();
      await channelEvent(outbox, row!.id, 'channel.updated', { channel: presentChannel(row!) });
      return presentMyChannel(row!, access.member);
    });
  } catch (err) {
    if (uniqueViolation(err) === NAME_TAKEN_CONSTRAINT) {
      throw new AppError('conflict', `A channel named "${patch.name}" exists already.`);
    }
    throw err;
  }
}
