// The counts read state is made of, computed from the messages themselves so they can never
// drift: a mention counts while its message is after the member's marker, and not otherwise.
import { sql, type Placeholder, type SQL } from 'drizzle-orm';
import { rowsOf, type Executor } from '../../../store/index.js';
import { channelTopic } from '../../topics.js';
import { UNREAD_COUNT_CAP } from '../presenters/read-state.js';

async function one<T>(db: Executor, query: SQL): Promise<T | undefined> {
  return rowsOf<T>(await db.execute(query))[0];
}

/** The seq of the channel's newest message, thread replies included (0 when it has none). */
export async function newestMessageSeq(db: Executor, channelId: string): Promise<number> {
  const row = await one<{ seq: string | number }>(
    db,
    sql`select greatest(
          (select last_message_seq from chat.channels where id = ${channelId}),
          (select coalesce(max(seq), 0) from chat.messages where channel_id = ${channelId})
        ) as seq`,
  );
  return Number(row?.seq ?? 0);
}

/**
 * Locks the channel's row, then its topic's seq row, as every message command does first: a
 * command that appends to the channel takes those locks before any member row, so it cannot
 * deadlock with a send updating mention counts.
 */
export async function lockChannelForEvents(db: Executor, channelId: string): Promise<void> {
  await db.execute(sql`select id from chat.channels where id = ${channelId} for update`);
  await db.execute(
    sql`select last_seq from core.topic_seqs where topic = ${channelTopic(channelId)} for update`,
  );
}

/** The seq of a thread's newest reply (0 when it has none). */
export async function newestReplySeq(db: Executor, rootId: string): Promise<number> {
  const row = await one<{ seq: string | number }>(
    db,
    sql`select coalesce(max(seq), 0) as seq from chat.messages where thread_root_id = ${rootId}`,
  );
  return Number(row?.seq ?? 0);
}

/**
 * Replies in the channel's threads that name `user` after their marker in that thread (the
 * thread part of `channelMentions`), as an integer expression; `user` is a uuid expression.
 */
function threadPartOf(channelId: string | Placeholder, user: SQL): SQL {
  return sql`(select count(*)::int from chat.thread_follows f
      join chat.messages root on root.id = f.root_id and root.channel_id = ${channelId}
      join chat.messages m on m.thread_root_id = f.root_id and m.seq > f.last_read_seq
      where f.user_id = ${user} and m.author_id <> ${user}
        and m.deleted_at is null and ${user} = any(m.mention_user_ids))`;
}

/** `threadPartOf` for one user: what posting leaves of their channel's mention count. */
export function unreadThreadMentions(
  channelId: string | Placeholder,
  userId: string | Placeholder,
): SQL {
  return threadPartOf(channelId, sql`${userId}::uuid`);
}

/**
 * Mentions of the user in the channel, as the channel list counts them: root messages after the
 * channel marker that name them or say @channel / @here, plus thread replies that name them
 * after their marker in that thread (a reply is not posted to the channel, so its @channel and
 * @here notify nobody, and only reading the thread reads it). Mentioned users follow the thread,
 * so their follow rows find every reply that names them. As `sendMessage` counts them. An integer
 * expression over `user` (uuid) and `afterSeq` (the channel marker), so one statement can count
 * for many members.
 */
export function channelMentions(channelId: string, user: SQL, afterSeq: SQL): SQL {
  return sql`((select count(*)::int from chat.messages
      where channel_id = ${channelId} and seq > ${afterSeq} and thread_root_id is null
        and author_id <> ${user} and deleted_at is null
        and (${user} = any(mention_user_ids) or mentions_channel or mentions_here))
    + ${threadPartOf(channelId, user)})`;
}

/** Replies of a thread after `afterSeq` that name `user` (see `channelMentions`). */
export function threadMentions(rootId: string, user: SQL, afterSeq: SQL): SQL {
  return sql`(select count(*)::int from chat.messages
      where thread_root_id = ${rootId} and seq > ${afterSeq}
        and author_id <> ${user} and deleted_at is null and ${user} = any(mention_user_ids))`;
}

/** `channelMentions` for one member and marker. */
export async function channelMentionCount(
  db: Executor,
  channelId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  return countOf(
    db,
    sql`select ${channelMentions(channelId, sql`${userId}::uuid`, sql`${afterSeq}`)} as n`,
  );
}

/** `threadMentions` for one follower and marker. */
export async function threadMentionCount(
  db: Executor,
  rootId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  return countOf(
    db,
    sql`select ${threadMentions(rootId, sql`${userId}::uuid`, sql`${afterSeq}`)} as n`,
  );
}

/** Others' root messages after `afterSeq`, up to the cap. */
export async function unreadCount(
  db: Executor,
  channelId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  return countOf(
    db,
    sql`select count(*) as n from (
          select 1 from chat.messages
          where channel_id = ${channelId} and seq > ${afterSeq} and thread_root_id is null
            and author_id <> ${userId}::uuid and deleted_at is null
          limit ${UNREAD_COUNT_CAP}
        ) unread`,
  );
}

/** The count a query selects as `n` (0 when it selects no row). */
async function countOf(db: Executor, query: SQL): Promise<number> {
  const row = await one<{ n: string | number }>(db, query);
  return Number(row?.n ?? 0);
}
