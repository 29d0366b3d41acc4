// A deleted message stops counting at once for everyone it counted for, instead of at their next
// read: its mentions leave the stored counts of the people whose marker had not passed it (the
// inverse of what posting added), and the channel's newest message moves back past it, so the
// channel is no longer unread for a message nobody can read. The people whose count changed hear
// it as `read.updated` on their own topic.
import { sql } from 'drizzle-orm';
import type { OutboxWriter } from '../../../pipeline/index.js';
import { arrayLiteral, rowsOf, type Executor } from '../../../store/index.js';
import type { MessageRow } from '../../messages/presenters/message.js';
import { userChatTopic } from '../../topics.js';
import type { ChannelReadState, ThreadReadState } from '../presenters/read-state.js';

interface CountRow {
  kind: 'channel' | 'thread';
  user_id: string;
  last_read_seq: string | number;
  mention_count: number;
}

/**
 * Takes the message (as it was before its tombstone) out of the mention counts and, for a root
 * message that was the channel's newest, the channel's newest seq back to the newest one left.
 * Returns that seq when it moved.
 */
export async function dropDeletedMentions(
  tx: Executor,
  outbox: OutboxWriter,
  message: MessageRow,
): Promise<number | undefined> {
  const changed = message.threadRootId
    ? await dropReplyMentions(tx, message, message.threadRootId)
    : await dropRootMentions(tx, message);
  if (changed.length > 0) {
    await outbox.append(
      changed.map((row) => {
        const state: ChannelReadState | ThreadReadState = {
          channelId: message.channelId,
          ...(row.kind === 'thread' ? { threadRootId: message.threadRootId! } : {}),
          lastReadSeq: Number(row.last_read_seq),
          mentionCount: row.mention_count,
        };
        return { type: 'read.updated', topic: userChatTopic(row.user_id), payload: { ...state } };
      }),
    );
  }
  if (message.threadRootId) return undefined;
  const [moved] = rowsOf<{ last_message_seq: string | number }>(
    await tx.execute(sql`
      update chat.channels c set last_message_seq = coalesce((
        select max(m.seq) from chat.messages m
        where m.channel_id = c.id and m.thread_root_id is null and m.deleted_at is null), 0)
      where c.id = ${message.channelId} and c.last_message_seq = ${message.seq}
      returning c.last_message_seq`),
  );
  return moved ? Number(moved.last_message_seq) : undefined;
}

/** As `sendMessage` counted it: everyone but the author for @channel/@here, else those named. */
async function dropRootMentions(tx: Executor, message: MessageRow): Promise<CountRow[]> {
  const everyone = message.mentionsChannel || message.mentionsHere;
  const named = message.mentionUserIds.filter((id) => id !== message.authorId);
  if (!everyone && named.length === 0) return [];
  return rowsOf<CountRow>(
    await tx.execute(sql`
      update chat.channel_members cm set mention_count = cm.mention_count - 1
      where cm.channel_id = ${message.channelId} and cm.user_id <> ${message.authorId}::uuid
        and cm.last_read_seq < ${message.seq} and cm.mention_count > 0
        ${everyone ? sql`` : sql`and cm.user_id = any(${arrayLiteral(named)}::uuid[])`}
      returning 'channel' as kind, cm.user_id::text as user_id, cm.last_read_seq, cm.mention_count`),
  );
}

/**
 * A reply counts for the people it names, in the thread and in the channel, while their thread
 * marker is before it (its @channel and @here notify nobody).
 */
async function dropReplyMentions(
  tx: Executor,
  message: MessageRow,
  rootId: string,
): Promise<CountRow[]> {
  const named = message.mentionUserIds.filter((id) => id !== message.authorId);
  if (named.length === 0) return [];
  return rowsOf<CountRow>(
    await tx.execute(sql`
      with follows as (
        update chat.thread_follows f set mention_count = f.mention_count - 1, updated_at = now()
        where f.root_id = ${rootId} and f.user_id = any(${arrayLiteral(named)}::uuid[])
          and f.last_read_seq < ${message.seq} and f.mention_count > 0
        returning f.user_id, f.last_read_seq, f.mention_count
      ), members as (
        update chat.channel_members cm set mention_count = cm.mention_count - 1
        from follows f
        where cm.channel_id = ${message.channelId} and cm.user_id = f.user_id
          and cm.mention_count > 0
        returning cm.user_id, cm.last_read_seq, cm.mention_count
      )
      select 'thread' as kind, user_id::text as user_id, last_read_seq, mention_count from follows
      union all
      select 'channel', user_id::text, last_read_seq, mention_count from members`),
  );
}
