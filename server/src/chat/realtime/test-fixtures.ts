// Rows and events the realtime and read-state tests need, written straight through the store and
// the pipeline: workspaces, channels, memberships (with the `channel.joined|left` events the
// channel commands emit) and messages (with the `message.created` event and counters a send
// writes).
import { and, eq, sql } from 'drizzle-orm';
import type { RunningServer } from '../../main.js';
import { channelEvent, userEvents } from '../events/channel-events.js';
import { newId } from '../ids.js';
import { channelMembers, channels, messages, workspaceMembers, workspaces } from '../schema.js';

type Kind = 'public' | 'private' | 'dm' | 'group_dm';

export async function makeWorkspace(
  server: RunningServer,
  ownerId: string,
  memberIds: readonly string[] = [],
): Promise<string> {
  const id = newId();
  const db = server.store.db;
  await db.insert(workspaces).values({ id, name: 'w', slug: `w-${id}`, createdBy: ownerId });
  await db
    .insert(workspaceMembers)
    .values([
      { workspaceId: id, userId: ownerId, role: 'owner' },
      ...memberIds.map((userId) => ({ workspaceId: id, userId, role: 'member' })),
    ]);
  return id;
}

export async function makeChannel(
  server: RunningServer,
  workspaceId: string,
  kind: Kind,
  memberIds: readonly string[],
): Promise<string> {
  const id = newId();
  const direct = kind === 'dm' || kind === 'group_dm';
  await server.store.db.insert(channels).values({
    id,
    workspaceId,
    kind,
    name: direct ? null : `c-${id}`,
    dmKey: direct ? [...memberIds].sort().join(',') : null,
    createdBy: memberIds[0]!,
    memberCount: memberIds.length,
  });
  if (memberIds.length > 0) {
    await server.store.db
      .insert(channelMembers)
      .values(memberIds.map((userId) => ({ channelId: id, userId })));
  }
  return id;
}

/** Adds a member as the join command does: the row, `member.joined`, `channel.joined`. */
export async function joinChannel(
  server: RunningServer,
  channelId: string,
  userId: string,
  workspaceId: string,
): Promise<void> {
  await server.pipeline.transaction(async (tx, outbox) => {
    await tx.insert(channelMembers).values({ channelId, userId });
    await tx
      .update(channels)
      .set({ memberCount: sql`${channels.memberCount} + 1` })
      .where(eq(channels.id, channelId));
    await channelEvent(outbox, channelId, 'member.joined', { userId });
    await userEvents(outbox, [userId], 'channel.joined', { channelId, workspaceId });
  });
}

/** Removes a member as the leave command does. */
export async function leaveChannel(
  server: RunningServer,
  channelId: string,
  userId: string,
  workspaceId: string,
): Promise<void> {
  await server.pipeline.transaction(async (tx, outbox) => {
    await tx
      .delete(channelMembers)
      .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)));
    await tx
      .update(channels)
      .set({ memberCount: sql`${channels.memberCount} - 1` })
      .where(eq(channels.id, channelId));
    await channelEvent(outbox, channelId, 'member.left', { userId });
    await userEvents(outbox, [userId], 'channel.left', { channelId, workspaceId });
  });
}

/**
 * Posts a message as a send does: `message.created` first, the row with its seq, the channel
 * head, the author's marker, and the mentioned members' counts. Returns the message's seq.
 */
export async function postMessage(
  server: RunningServer,
  channelId: string,
  authorId: string,
  options: { mentionUserIds?: string[]; threadRootId?: string; body?: string } = {},
): Promise<{ id: string; seq: number }> {
  const id = newId();
  const mentioned = (options.mentionUserIds ?? []).filter((m) => m !== authorId);
  return server.pipeline.transaction(async (tx, outbox) => {
    const body = options.body ?? 'hello';
    const record = await channelEvent(outbox, channelId, 'message.created', {
      conversation_id: channelId,
      message: { id, channelId, authorId, body },
    });
    const seq = record.seq;
    await tx.insert(messages).values({
      id,
      channelId,
      seq,
      authorId,
      body,
      threadRootId: options.threadRootId ?? null,
      mentionUserIds: mentioned,
    });
    if (!options.threadRootId) {
      await tx
        .update(channels)
        .set({ lastMessageSeq: seq, lastMessageAt: new Date() })
        .where(eq(channels.id, channelId));
      await tx
        .update(channelMembers)
        .set({ lastReadSeq: seq })
        .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, authorId)));
    }
    for (const userId of mentioned) {
      await tx
        .update(channelMembers)
        .set({ mentionCount: sql`${channelMembers.mentionCount} + 1` })
        .where(and(eq(channelMembers.channelId, channelId), eq(channelMembers.userId, userId)));
    }
    return { id, seq };
  });
}
