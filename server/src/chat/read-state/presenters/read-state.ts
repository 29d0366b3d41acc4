// Read markers as clients see them (the REST answers and the `read.updated` event).

export interface ChannelReadState {
  channelId: string;
  lastReadSeq: number;
  mentionCount: number;
}

export interface ChannelReadSummary extends ChannelReadState {
  /** Root messages of others after the marker, counted up to `UNREAD_COUNT_CAP`. */
  unreadCount: number;
  unread: boolean;
}

export interface ThreadReadState {
  channelId: string;
  threadRootId: string;
  lastReadSeq: number;
  mentionCount: number;
}

export interface ReadReceipt {
  userId: string;
  lastReadSeq: number;
}

/** Unread counts stop here (clients show "99+"), so counting stays a short index scan. */
export const UNREAD_COUNT_CAP = 100;

/** Channels up to this size (and every DM) share read receipts. */
export const READ_RECEIPTS_MAX_MEMBERS = 50;

export const presentReceipt = (row: { userId: string; lastReadSeq: number }): ReadReceipt => ({
  userId: row.userId,
  lastReadSeq: Number(row.lastReadSeq),
});
