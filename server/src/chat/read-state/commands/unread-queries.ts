// The counts read state is made of, computed from the messages themselves so they can never
// drift: a mention counts while its message is after the member's marker, and not otherwise.
import { sql, type SQL } from 'drizzle-orm';
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

/** A deadlock or serialization failure: the transaction can simply run again. */
export function isRetryableConflict(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 6; depth++) {
    const { code, cause } = e as { code?: string; cause?: unknown };
    if (code === '40P01' || code === '40001') return true;
    e = cause;
  }
  return false;
}

/** The seq of a thread's newest reply (0 when it has none). */
export async function newestReplySeq(db: Executor, rootId: string): Promise<number> {
  const row = await one<{ seq: string | number }>(
    db,
    sql`select coalesce(max(seq), 0) as seq from chat.messages where thread_root_id = ${rootId}`,
  );
  return Number(row?.seq ?? 0);
}

const mentionsUser = (userId: string) =>
  sql`author_id <> ${userId}::uuid and deleted_at is null
      and (${userId}::uuid = any(mention_user_ids) or mentions_channel or mentions_here)`;

async function mentionCountIn(
  db: Executor,
  scope: SQL,
  userId: string,
  afterSeq: number,
): Promise<number> {
  const row = await one<{ n: string | number }>(
    db,
    sql`select count(*) as n from chat.messages
        where ${scope} and seq > ${afterSeq} and ${mentionsUser(userId)}`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Mentions of the user in the channel's messages after `afterSeq`, thread replies included (as
 * `sendMessage` counts them), since a reply's seq is on the channel's topic too.
 */
export function channelMentionCount(
  db: Executor,
  channelId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  return mentionCountIn(db, sql`channel_id = ${channelId}`, userId, afterSeq);
}

/** Mentions of the user in a thread's replies after `afterSeq`. */
export function threadMentionCount(
  db: Executor,
  rootId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  return mentionCountIn(db, sql`thread_root_id = ${rootId}`, userId, afterSeq);
}

/** Others' root messages after `afterSeq`, up to the cap. */
export async function unreadCount(
  db: Executor,
  channelId: string,
  userId: string,
  afterSeq: number,
): Promise<number> {
  const row = await one<{ n: string | number }>(
    db,
    sql`select count(*) as n from (
          select 1 from chat.messages
          where channel_id = ${channelId} and seq > ${afterSeq} and thread_root_id is null
            and author_id <> ${userId}::uuid and deleted_at is null
          limit ${UNREAD_COUNT_CAP}
        ) unread`,
  );
  return Number(row?.n ?? 0);
}
