// Channels on the wire: what every member sees (also the payload of channel.* events), and the
// same with the caller's own membership and unread state.
import type { ChannelMemberRow, ChannelRow } from '../../policies/channel-access.js';

export interface ChannelView {
  id: string;
  workspaceId: string;
  /** public | private | dm | group_dm */
  kind: string;
  /** Null for DMs. */
  name: string | null;
  topic: string;
  purpose: string;
  createdBy: string;
  memberCount: number;
  /** Seq of the newest root message. */
  lastMessageSeq: number;
  lastMessageAt: string | null;
  archivedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MyChannelView extends ChannelView {
  member: boolean;
  /** The caller's channel role, when a member. */
  role: string | null;
  lastReadSeq: number;
  unread: boolean;
  mentionCount: number;
  muted: boolean;
}

export function presentChannel(row: ChannelRow): ChannelView {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    kind: row.kind,
    name: row.name,
    topic: row.topic,
    purpose: row.purpose,
    createdBy: row.createdBy,
    memberCount: row.memberCount,
    lastMessageSeq: Number(row.lastMessageSeq),
    lastMessageAt: row.lastMessageAt?.toISOString() ?? null,
    archivedAt: row.archivedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function presentMyChannel(
  row: ChannelRow,
  member: ChannelMemberRow | null | undefined,
): MyChannelView {
  const lastReadSeq = member ? Number(member.lastReadSeq) : 0;
  return {
    ...presentChannel(row),
    member: Boolean(member),
    role: member?.role ?? null,
    lastReadSeq,
    unread: Boolean(member) && Number(row.lastMessageSeq) > lastReadSeq,
    mentionCount: member?.mentionCount ?? 0,
    muted: member?.muted ?? false,
  };
}
