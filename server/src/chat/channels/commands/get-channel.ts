// One channel as the caller sees it.
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { presentMyChannel, type MyChannelView } from '../presenters/channel.js';

export async function getChannel(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<MyChannelView> {
  const access = await requireChannel(ctx, userId, channelId);
  return presentMyChannel(access.channel, access.member);
}
