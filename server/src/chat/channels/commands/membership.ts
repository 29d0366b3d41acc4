// The membership writes every channel command shares: inserting a channel with its first
// members, adding and removing members. Each runs inside the caller's transaction, keeps
// channels.member_count equal to the member rows it actually changed (so concurrent joins and
// leaves never drift it), and appends the events: member.joined|left on the channel topic and
// channel.joined|left on each affected user's topic. Like every message command, they lock the
// channel row and then its seq row before any member row, so a join racing a send cannot deadlock
// (the callers run their transaction through `retryingConflicts` for other commands' orders).
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { OutboxEventInput, OutboxWriter } from '../../../pipeline/index.js';
import type { Transaction } from '../../../store/index.js';
import { newId } from '../../ids.js';
import { lockChannel } from '../../messages/channel-transaction.js';
import type { ChannelRow } from '../../policies/channel-access.js';
import { channelMembers, channels, workspaceMembers } from '../../schema.js';
import { channelTopic, userChatTopic } from '../../topics.js';
import { presentChannel } from '../presenters/channel.js';

export type ChannelKind = 'public' | 'private' | 'dm' | 'group_dm';

export const isDirectKind = (kind: string) => kind === 'dm' || kind === 'group_dm';

export interface NewChannel {
  workspaceId: string;
  kind: ChannelKind;
  name: string | null;
  topic?: string;
  purpose?: string;
  /** DMs only: the sorted member ids. */
  dmKey?: string;
  createdBy: string;
}

function membershipEvents(
  channel: Pick<ChannelRow, 'id' | 'workspaceId'>,
  userIds: readonly string[],
  joined: boolean,
  by: string | undefined,
): OutboxEventInput[] {
  const channelId = channel.id;
  return [
    ...userIds.map((userId) => ({
      type: joined ? 'member.joined' : 'member.left',
      topic: channelTopic(channelId),
      payload: { channelId, userId, ...(by && by !== userId ? { by } : {}) },
    })),
    ...userIds.map((userId) => ({
      type: joined ? 'channel.joined' : 'channel.left',
      topic: userChatTopic(userId),
      payload: { channelId, workspaceId: channel.workspaceId },
    })),
  ];
}

/**
 * Creates a channel with its first members (the creator among them, as its owner unless it is a
 * DM). A DM whose member set exists already is not created: the result is undefined, and the
 * caller finds the existing one (two people opening the same DM at once end with one channel).
 */
export async function insertChannel(
  tx: Transaction,
  outbox: OutboxWriter,
  fields: NewChannel,
  memberIds: readonly string[],
): Promise<ChannelRow | undefined> {
  const ids = [...new Set([fields.createdBy, ...memberIds])];
  const insert = tx.insert(channels).values({
    id: newId(),
    workspaceId: fields.workspaceId,
    kind: fields.kind,
    name: fields.name,
    topic: fields.topic ?? '',
    purpose: fields.purpose ?? '',
    dmKey: fields.dmKey ?? null,
    createdBy: fields.createdBy,
    memberCount: ids.length,
  });
  const [row] = await (
    fields.dmKey
      ? insert.onConflictDoNothing({ target: [channels.workspaceId, channels.dmKey] })
      : insert
  ).returning();
  if (!row) return undefined;
  const direct = isDirectKind(fields.kind);
  await tx.insert(channelMembers).values(
    ids.map((userId) => ({
      channelId: row.id,
      userId,
      role: !direct && userId === fields.createdBy ? 'owner' : 'member',
    })),
  );
  await outbox.append([
    {
      type: 'channel.created',
      topic: channelTopic(row.id),
      payload: { channelId: row.id, channel: presentChannel(row) },
    },
    ...membershipEvents(row, ids, true, fields.createdBy),
  ]);
  return row;
}

export interface MembershipChange {
  /** The channel row after the change. */
  channel: ChannelRow;
  /** The users whose membership actually changed (others were members already, or not). */
  changed: string[];
}

/** Adds members; those who are members already are left as they are. */
export async function addMembers(
  tx: Transaction,
  outbox: OutboxWriter,
  channel: ChannelRow,
  userIds: readonly string[],
  by?: string,
): Promise<MembershipChange> {
  if (userIds.length === 0) return { channel, changed: [] };
  await lockChannel(tx, channel.id);
  // A new member has read everything before they joined.
  const readUpTo = sql`(select last_message_seq from chat.channels where id = ${channel.id})`;
  const inserted = await tx
    .insert(channelMembers)
    .values(
      [...new Set(userIds)].map((userId) => ({
        channelId: channel.id,
        userId,
        role: 'member',
        lastReadSeq: readUpTo,
      })),
    )
    .onConflictDoNothing()
    .returning({ userId: channelMembers.userId });
  return afterMembershipChange(tx, outbox, channel, inserted, true, by);
}

/** Removes members; those who are not members are ignored. */
export async function removeMembers(
  tx: Transaction,
  outbox: OutboxWriter,
  channel: ChannelRow,
  userIds: readonly string[],
  by?: string,
): Promise<MembershipChange> {
  if (userIds.length === 0) return { channel, changed: [] };
  await lockChannel(tx, channel.id);
  const deleted = await tx
    .delete(channelMembers)
    .where(and(eq(channelMembers.channelId, channel.id), inArray(channelMembers.userId, userIds)))
    .returning({ userId: channelMembers.userId });
  return afterMembershipChange(tx, outbox, channel, deleted, false, by);
}

async function afterMembershipChange(
  tx: Transaction,
  outbox: OutboxWriter,
  channel: ChannelRow,
  rows: Array<{ userId: string }>,
  joined: boolean,
  by: string | undefined,
): Promise<MembershipChange> {
  const changed = rows.map((r) => r.userId);
  if (changed.length === 0) return { channel, changed };
  const delta = joined ? changed.length : -changed.length;
  const [updated] = await tx
    .update(channels)
    .set({ memberCount: sql`${channels.memberCount} + ${delta}` })
    .where(eq(channels.id, channel.id))
    .returning();
  await outbox.append(membershipEvents(channel, changed, joined, by));
  return { channel: updated ?? channel, changed };
}

/**
 * Takes a user out of every channel of a workspace (they left it or were removed). Deleted
 * channels lose the row quietly; live ones tell their members and the user.
 */
export async function removeFromWorkspaceChannels(
  tx: Transaction,
  outbox: OutboxWriter,
  workspaceId: string,
  userId: string,
  by?: string,
): Promise<string[]> {
  const inWorkspace = tx
    .select({ id: channels.id })
    .from(channels)
    .where(eq(channels.workspaceId, workspaceId));
  // The channel rows first, in one order, as a single-channel write takes its channel's.
  await tx.execute(sql`
    select c.id from chat.channels c
    join chat.channel_members m on m.channel_id = c.id and m.user_id = ${userId}
    where c.workspace_id = ${workspaceId}
    order by c.id
    for update of c`);
  const deleted = await tx
    .delete(channelMembers)
    .where(and(eq(channelMembers.userId, userId), inArray(channelMembers.channelId, inWorkspace)))
    .returning({ channelId: channelMembers.channelId });
  if (deleted.length === 0) return [];
  const updated = await tx
    .update(channels)
    .set({ memberCount: sql`${channels.memberCount} - 1` })
    .where(
      inArray(
        channels.id,
        deleted.map((d) => d.channelId),
      ),
    )
    .returning({
      id: channels.id,
      workspaceId: channels.workspaceId,
      deletedAt: channels.deletedAt,
    });
  const live = updated.filter((c) => !c.deletedAt);
  await outbox.append(live.flatMap((c) => membershipEvents(c, [userId], false, by)));
  return live.map((c) => c.id);
}

/**
 * The workspace's general channel: the first public channel, made with the workspace. It cannot
 * be archived or deleted, so it stays the one every member joins.
 */
export async function generalChannelOf(
  tx: Pick<Transaction, 'select'>,
  workspaceId: string,
): Promise<ChannelRow | undefined> {
  const [row] = await tx
    .select()
    .from(channels)
    .where(
      and(
        eq(channels.workspaceId, workspaceId),
        eq(channels.kind, 'public'),
        isNull(channels.deletedAt),
      ),
    )
    .orderBy(asc(channels.createdAt), asc(channels.id))
    .limit(1);
  return row;
}

/** Those of `userIds` who are not members of the workspace. */
export async function notWorkspaceMembers(
  db: Pick<Transaction, 'select'>,
  workspaceId: string,
  userIds: readonly string[],
): Promise<string[]> {
  if (userIds.length === 0) return [];
  const found = await db
    .select({ userId: workspaceMembers.userId })
    .from(workspaceMembers)
    .where(
      and(eq(workspaceMembers.workspaceId, workspaceId), inArray(workspaceMembers.userId, userIds)),
    );
  const members = new Set(found.map((f) => f.userId));
  return userIds.filter((id) => !members.has(id));
}

/** The caller's membership row after a change, to present the channel as they now see it. */
export async function membershipOf(
  db: Pick<Transaction, 'select'>,
  channelId: string,
  userId: string,
) {
  const [row] = await db
    .select()
    .from(channelMembers)
    .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)));
  return row;
}
