// Read receipts ("seen by"): every member's marker, for DMs and channels small enough to share
// them. Member M has seen message X when M's lastReadSeq >= X.seq.
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { requireChannel } from '../../policies/channel-access.js';
import { channelMembers } from '../../schema.js';
import {
  presentReceipt,
  READ_RECEIPTS_MAX_MEMBERS,
  type ReadReceipt,
} from '../presenters/read-state.js';
import { sharesReadReceipts } from './mark-channel-read.js';

export async function listReadReceipts(
  ctx: ChatContext,
  userId: string,
  channelId: string,
): Promise<{ items: ReadReceipt[]; nextCursor: null }> {
  const { channel } = await requireChannel(ctx, userId, channelId, 'read');
  if (!sharesReadReceipts(channel)) {
    throw new AppError(
      'forbidden',
      `Read receipts are kept for DMs and channels of up to ${READ_RECEIPTS_MAX_MEMBERS} members.`,
    );
  }
  const rows = await ctx.db
    .select({ userId: channelMembers.userId, lastReadSeq: channelMembers.lastReadSeq })
    .from(channelMembers)
    .where(eq(channelMembers.channelId, channelId))
    .orderBy(asc(channelMembers.userId));
  return { items: rows.map(presentReceipt), nextCursor: null };
}
