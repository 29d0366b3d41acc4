// DMs on the wire: the channel as its member sees it, the other people in it, and the exact
// number of unread root messages (capped, for a badge).
import type { ChannelMemberRow, ChannelRow } from '../../policies/channel-access.js';
import { presentMyChannel, type MyChannelView } from '../../channels/presenters/channel.js';
import type { UserSummary } from '../../workspaces/presenters/workspace.js';

/** Unread counts stop here; a client shows "99+"-style badges above it. */
export const UNREAD_COUNT_CAP = 100;

export interface DmView extends MyChannelView {
  /** Everyone in the DM except the caller. */
  members: UserSummary[];
  /** Root messages after the caller's read marker, by others, at most UNREAD_COUNT_CAP. */
  unreadCount: number;
}

export function presentDm(
  channel: ChannelRow,
  member: ChannelMemberRow,
  others: UserSummary[],
  unreadCount: number,
): DmView {
  return { ...presentMyChannel(channel, member), members: others, unreadCount };
}
