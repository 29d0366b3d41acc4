// A deleted message stops counting at once for everyone it counted for, instead of at their next
// read: the stored mention counts of the people whose marker had not passed it are recounted from
// the messages, and the channel's newest message moves back past it, so the channel is no longer
// unread for a message nobody can read. The people whose count changed hear it as `read.updated`
// on their own topic.
import { sql, type SQL } from 'drizzle-orm';
import type { OutboxWriter } from '../../../pipeline/index.js';
import { arrayLiteral, rowsOf, type Executor } from '../../../store/index.js';
import type { MessageRow } from '../../messages/presenters/message.js';
import { userChatTopic } from '../../topics.js';
import type { ChannelReadState, ThreadReadState } from '../presenters/read-state.js';
import { channelMentions, threadMentions } from './unread-queries.js';

interface CountRow {
  kind: 'channel' | 'thread';
  user_id: string;
  last_read_seq: string | number;
  mention_count: number;
}

/**
 * After the message's tombstone is written: takes it out of the mention counts and, for a root
 * message that was the channel's newest, moves the channel's newest seq back to the newest one
 * left. Returns that seq when it moved.
 */
export async function forgetDeletedMessage(
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

/**
 * Recounts, from the messages, the channel mentions of the members who might have counted it:
 * their marker was before it and their count is not 0. Edits do not change counts, so the
 * message's own mentions cannot say whom it counted for; recounting those members can.
 */
function dropRootMentions(tx: Executor, message: MessageRow): Promise<CountRow[]> {
  return recountChannelMentions(
    tx,
    message.channelId,
    sql`cm.last_read_seq < ${message.seq} and cm.mention_count > 0`,
  );
}

/**
 * The same for a reply: the thread counts of its followers whose thread marker was before it,
 * then the channel counts of those whose thread count changed (a reply counts in both).
 */
async function dropReplyMentions(
  tx: Executor,
  message: MessageRow,
  rootId: string,
): Promise<CountRow[]> {
  const threads = rowsOf<CountRow>(
    await tx.execute(sql`
      with recount as (
        select f.user_id, ${threadMentions(rootId, sql`f.user_id`, sql`f.last_read_seq`)} as n
        from chat.thread_follows f
        where f.root_id = ${rootId} and f.last_read_seq < ${message.seq} and f.mention_count > 0
      )
      update chat.thread_follows f set mention_count = r.n, updated_at = now()
      from recount r
      where f.root_id = ${rootId} and f.user_id = r.user_id and f.mention_count <> r.n
      returning 'thread' as kind, f.user_id::text as user_id, f.last_read_seq, f.mention_count`),
  );
  if (threads.length === 0) return [];
  const users = arrayLiteral(threads.map((row) => row.user_id));
  const channels = await recountChannelMentions(
    tx,
    message.channelId,
    sql`cm.user_id = any(${users}::uuid[])`,
  );
  return [...threads, ...channels];
}

/** Sets the channel mention count of the members `cm` that `members` picks; returns the changed. */
async function recountChannelMentions(
  tx: Executor,
  channelId: string,
  members: SQL,
): Promise<CountRow[]> {
  return rowsOf<CountRow>(
    await tx.execute(sql`
      with recount as (
        select cm.user_id, ${channelMentions(channelId, sql`cm.user_id`, sql`cm.last_read_seq`)} as n
        from chat.channel_members cm
        where cm.channel_id = ${channelId} and ${members}
      )
      update chat.channel_members cm set mention_count = r.n
      from recount r
      where cm.channel_id = ${channelId} and cm.user_id = r.user_id and cm.mention_count <> r.n
      returning 'channel' as kind, cm.user_id::text as user_id, cm.last_read_seq, cm.mention_count`),
  );
}
