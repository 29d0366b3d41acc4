// Messages on the wire, with their reactions grouped by emoji.
import type { messages } from '../../schema.js';

export type MessageRow = typeof messages.$inferSelect;

/** One emoji's reactions on a message, oldest first. */
export interface ReactionGroup {
  emoji: string;
  count: number;
  /** The first 10 who reacted. */
  userIds: string[];
  /** Whether the viewer reacted (always false in events, which have no single viewer). */
  me: boolean;
}

export interface MessageView {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  /** Markdown source as written; "" once deleted. */
  body: string;
  threadRootId: string | null;
  replyCount: number;
  lastReplyAt: string | null;
  threadParticipantIds: string[];
  mentions: { userIds: string[]; channel: boolean; here: boolean };
  reactions: ReactionGroup[];
  pinned: boolean;
  pinnedAt: string | null;
  pinnedBy: string | null;
  editedAt: string | null;
  deletedAt: string | null;
  clientMsgId: string | null;
  createdAt: string;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentMessage(row: MessageRow, reactions: ReactionGroup[] = []): MessageView {
  const deleted = row.deletedAt !== null;
  return {
    id: row.id,
    channelId: row.channelId,
    seq: row.seq,
    authorId: row.authorId,
    body: deleted ? '' : row.body,
    threadRootId: row.threadRootId,
    replyCount: row.replyCount,
    lastReplyAt: iso(row.lastReplyAt),
    threadParticipantIds: row.threadParticipantIds,
    mentions: deleted
      ? { userIds: [], channel: false, here: false }
      : { userIds: row.mentionUserIds, channel: row.mentionsChannel, here: row.mentionsHere },
    reactions: deleted ? [] : reactions,
    pinned: row.pinnedAt !== null,
    pinnedAt: iso(row.pinnedAt),
    pinnedBy: row.pinnedBy,
    editedAt: iso(row.editedAt),
    deletedAt: iso(row.deletedAt),
    clientMsgId: row.clientMsgId,
    createdAt: row.createdAt.toISOString(),
  };
}
