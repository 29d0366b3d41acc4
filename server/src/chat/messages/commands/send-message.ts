// Sending a message or a thread reply: the message is written with the seq of its
// `message.created` event, together with every counter it changes (channel head, the sender's
// read marker, mention counts, the thread's summary and followers). A message posted to the
// channel is one statement; a thread reply, or a send that writes more (an idempotent REST
// response), is a transaction.
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import {
  arrayLiteral,
  rowsOf,
  statementTemplate,
  uniqueViolation,
  type Transaction,
} from '../../../store/index.js';
import type { ChatContext } from '../../context.js';
import { channelEvent, userEvents } from '../../events/channel-events.js';
import { isUuid, newId } from '../../ids.js';
import { requireChannel } from '../../policies/channel-access.js';
import { channelMembers, channels, messages, threadFollows } from '../../schema.js';
import type { ChannelReadState } from '../../read-state/presenters/read-state.js';
import { CHANNEL_TOPIC_PREFIX, userChatTopic } from '../../topics.js';
import { channelTransaction, retryingConflicts, SeqRaceError } from '../channel-transaction.js';
import { parseMentions } from '../mentions.js';
import { presentMessage, type MessageRow, type MessageView } from '../presenters/message.js';
import { unreadThreadMentions } from '../../read-state/commands/unread-queries.js';
import { channelMemberIds, viewMessage } from '../queries.js';
import { sendMessageInput, type SendMessageInput } from '../schemas.js';
import { threadSummary } from './thread-summary.js';

export interface SendResult {
  readonly message: MessageView;
  /** False when a message with the same clientMsgId existed already and is returned instead. */
  readonly created: boolean;
}

export interface SendOptions {
  /** Runs in the sending transaction after the message is written (e.g. to store a response). */
  inTransaction?: (tx: Transaction, message: MessageView) => Promise<void>;
}

/** Sends a message into a channel the user may post in (the REST route and the WebSocket op). */
export async function sendMessage(
  ctx: ChatContext,
  userId: string,
  input: SendMessageInput,
  options: SendOptions = {},
): Promise<SendResult> {
  const { channelId, body, threadRootId, clientMsgId } = sendMessageInput.parse(input);
  // A message posted to the channel checks the sender's right to post in its own statement;
  // everything else asks first.
  const posting = !threadRootId && !options.inTransaction;
  if (!posting || !isUuid(channelId)) await requireChannel(ctx, userId, channelId, 'post');
  // A resent clientMsgId is not looked up first: the unique index refuses the copy (below).
  const root = threadRootId ? await threadRootOf(ctx, channelId, threadRootId) : undefined;
  const parsed = parseMentions(body);
  // Ids of channel members only: stored only if the post, which checks access, is written.
  const mentionUserIds = await channelMemberIds(ctx, channelId, parsed.usernames);
  const draft = {
    id: newId(),
    channelId,
    authorId: userId,
    threadRootId: root?.id ?? null,
    body,
    mentionUserIds,
    mentionsChannel: parsed.channel,
    mentionsHere: parsed.here,
    clientMsgId: clientMsgId ?? null,
  };
  try {
    if (posting) {
      const row = await postAsMember(ctx, draft);
      return { message: presentMessage(row), created: true };
    }
    const row = await channelTransaction(ctx, channelId, async (tx, outbox, lastSeq) => {
      const seq = lastSeq + 1;
      const now = new Date(ctx.now());
      const row = newMessageRow(draft, seq, now);
      const message = presentMessage(row);
      const record = await channelEvent(outbox, channelId, 'message.created', {
        conversation_id: channelId,
        message,
      });
      if (record.seq !== seq) throw new SeqRaceError();
      await tx.insert(messages).values(row);
      await countMentions(tx, row);
      if (root) {
        await updateThread(tx, row, root);
        await channelEvent(outbox, channelId, 'thread.updated', await threadSummary(tx, root.id));
      } else {
        await tx
          .update(channels)
          .set({
            lastMessageSeq: sql`greatest(${channels.lastMessageSeq}, ${seq})`,
            lastMessageAt: now,
          })
          .where(eq(channels.id, channelId));
        // Posting in a channel means having seen it: the marker moves to the new message, and
        // the mentions left are those in threads not read yet (looked up only when there are any).
        const mine = and(
          eq(channelMembers.channelId, channelId),
          eq(channelMembers.userId, userId),
        );
        const [before] = await tx
          .select({ mentionCount: channelMembers.mentionCount })
          .from(channelMembers)
          .where(mine);
        const [after] = await tx
          .update(channelMembers)
          .set({
            lastReadSeq: sql`greatest(${channelMembers.lastReadSeq}, ${seq})`,
            mentionCount: sql`case when ${channelMembers.mentionCount} = 0 then 0
              else ${unreadThreadMentions(channelId, userId)} end`,
          })
          .where(mine)
          .returning({ mentionCount: channelMembers.mentionCount });
        if (after && after.mentionCount !== before?.mentionCount) {
          const state: ChannelReadState = {
            channelId,
            lastReadSeq: seq,
            mentionCount: after.mentionCount,
          };
          await userEvents(outbox, [userId], 'read.updated', { ...state });
        }
      }
      await options.inTransaction?.(tx, message);
      return row;
    });
    return { message: presentMessage(row), created: true };
  } catch (err) {
    if (clientMsgId && uniqueViolation(err) === 'messages_client_msg_key') {
      // The same message sent twice at once: the other request wrote it.
      const existing = await findByClientMsgId(ctx, channelId, userId, clientMsgId);
      if (existing) {
        return { message: await viewMessage(ctx.db, existing, userId), created: false };
      }
    }
    throw err;
  }
}

type MessageDraft = Pick<
  MessageRow,
  | 'id'
  | 'channelId'
  | 'authorId'
  | 'threadRootId'
  | 'body'
  | 'mentionUserIds'
  | 'mentionsChannel'
  | 'mentionsHere'
  | 'clientMsgId'
>;

/**
 * The row of a message just written: no replies, pins, edits or deletion yet. Every field is
 * named rather than spread from the draft: a spread followed by ten more keys made V8 allocate
 * in the old generation on every call (most of what a chat node promoted, and a full collection
 * every few seconds under load), where a literal of named fields stays young.
 */
function newMessageRow(draft: MessageDraft, seq: number, createdAt: Date): MessageRow {
  return {
    id: draft.id,
    channelId: draft.channelId,
    authorId: draft.authorId,
    threadRootId: draft.threadRootId,
    body: draft.body,
    mentionUserIds: draft.mentionUserIds,
    mentionsChannel: draft.mentionsChannel,
    mentionsHere: draft.mentionsHere,
    clientMsgId: draft.clientMsgId,
    seq,
    replyCount: 0,
    lastReplySeq: null,
    lastReplyAt: null,
    threadParticipantIds: [],
    pinnedAt: null,
    pinnedBy: null,
    editedAt: null,
    deletedAt: null,
    createdAt,
  };
}

/**
 * Posts when the sender may (a member, the channel neither archived nor deleted). When the post
 * statement finds no such channel, the access check says why (404, or 403 with the reason); if
 * it finds the sender may post after all (joined in between), the post is tried again.
 */
async function postAsMember(ctx: ChatContext, draft: MessageDraft): Promise<MessageRow> {
  for (let attempt = 1; ; attempt++) {
    const row = await retryingConflicts(() => postToChannel(ctx, draft, new Date(ctx.now())));
    if (row) return row;
    await requireChannel(ctx, draft.authorId, draft.channelId, 'post');
    if (attempt === POST_ATTEMPTS)
      throw new AppError('conflict', 'The channel is changing; retry.');
  }
}

const POST_ATTEMPTS = 3;

interface PostValues extends Record<string, unknown> {
  readonly channelId: string;
  readonly authorId: string;
  readonly payload: string;
  readonly id: string;
  readonly body: string;
  /** Array literals (`arrayLiteral`): everyone the message names, and those of them not the author. */
  readonly mentionUserIds: string;
  readonly mentionedOthers: string;
  readonly mentionsChannel: boolean;
  readonly mentionsHere: boolean;
  readonly clientMsgId: string | null;
  /** The message's time, ISO 8601. */
  readonly at: string;
}

/** The post statement for the members it notifies: nobody, everyone, or those it names. */
function postStatement(notifies: 'nobody' | 'everyone' | 'named') {
  const name = {
    nobody: 'chat_post',
    everyone: 'chat_post_mention_all',
    named: 'chat_post_mention_some',
  };
  return statementTemplate<ChatContext['pipeline'], PostValues>(
    name[notifies],
    (pipeline, v) => sql`
    with locked as (
      select c.id from chat.channels c
      where c.id = ${v.channelId} and c.deleted_at is null and c.archived_at is null
        and exists (select from chat.channel_members m
          where m.channel_id = c.id and m.user_id = ${v.authorId}::uuid)
      for update of c
    ), ${pipeline.appendingCtes(
      {
        type: 'message.created',
        topic: { prefix: CHANNEL_TOPIC_PREFIX, rest: sql`${v.channelId}::text` },
      },
      (seq) => sql`jsonb_set(${v.payload}::jsonb, '{message,seq}', to_jsonb(${seq}))`,
      'locked',
    )}, inserted as (
      insert into chat.messages (id, channel_id, seq, author_id, body, mention_user_ids,
        mentions_channel, mentions_here, client_msg_id, created_at)
      select ${v.id}::uuid, ${v.channelId}::uuid, s.last_seq, ${v.authorId}::uuid, ${v.body},
        ${v.mentionUserIds}::uuid[], ${v.mentionsChannel}::boolean, ${v.mentionsHere}::boolean,
        ${v.clientMsgId}::text, ${v.at}::timestamptz
      from appended_seq s
    ), head as (
      update chat.channels c
      set last_message_seq = greatest(c.last_message_seq, s.last_seq), last_message_at = ${v.at}::timestamptz
      from appended_seq s
      where c.id = ${v.channelId}
    ), seen_before as (
      select mention_count from chat.channel_members
      where channel_id = ${v.channelId} and user_id = ${v.authorId}::uuid
    ), seen as (
      -- Posting means having seen the channel: as in the thread-reply transaction.
      update chat.channel_members cm
      set last_read_seq = greatest(cm.last_read_seq, s.last_seq),
        mention_count = case when cm.mention_count = 0 then 0
          else ${unreadThreadMentions(v.channelId, v.authorId)} end
      from appended_seq s
      where cm.channel_id = ${v.channelId} and cm.user_id = ${v.authorId}::uuid
      returning cm.mention_count
    )${
      notifies === 'nobody'
        ? sql``
        : sql`, mentioned as (
          update chat.channel_members cm set mention_count = cm.mention_count + 1
          from appended_seq s
          where cm.channel_id = ${v.channelId} and cm.user_id <> ${v.authorId}::uuid
            ${notifies === 'everyone' ? sql`` : sql`and cm.user_id = any(${v.mentionedOthers}::uuid[])`}
        )`
    }
    select a.*, (select mention_count from seen_before) as mentions_before,
      (select mention_count from seen) as mentions_after
    from appended a`,
  );
}

const postPlain = postStatement('nobody');
const postMentioningAll = postStatement('everyone');
const postMentioningSome = postStatement('named');

/**
 * A root message in one statement, with the locks of `channelTransaction` in its order (the
 * channel row, then the topic's seq row, then member rows): the `message.created` event gets
 * the next seq and carries it, the message row is written, the channel head and the sender's
 * read marker move, and the people it mentions are counted. The hot path of chat: one round
 * trip and one commit, and no SQL built per message.
 */
async function postToChannel(
  ctx: ChatContext,
  draft: MessageDraft,
  now: Date,
): Promise<MessageRow | undefined> {
  const row = newMessageRow(draft, 0, now);
  const { channelId, authorId } = draft;
  const everyone = draft.mentionsChannel || draft.mentionsHere;
  const mentioned = draft.mentionUserIds.filter((id) => id !== authorId);
  const event = eventOf(row);
  const post = everyone ? postMentioningAll : mentioned.length > 0 ? postMentioningSome : postPlain;
  const result = await post(ctx.pipeline, ctx.db, {
    channelId,
    authorId,
    // The event exactly as `channelEvent` writes it; its message's seq is set by the database.
    payload: JSON.stringify(event),
    id: draft.id,
    body: draft.body,
    mentionUserIds: arrayLiteral(draft.mentionUserIds),
    mentionedOthers: arrayLiteral(mentioned),
    mentionsChannel: draft.mentionsChannel,
    mentionsHere: draft.mentionsHere,
    clientMsgId: draft.clientMsgId,
    at: now.toISOString(),
  });
  const appended = rowsOf<{
    seq: string;
    mentions_before: number | null;
    mentions_after: number | null;
  }>(result)[0];
  // No channel the author may post in.
  if (!appended) return undefined;
  // Both objects were built here for this message alone: the seq is set on them, not on copies
  // (spread copies on this path were allocated in the old generation and cost mark-compacts).
  row.seq = Number(appended.seq);
  event.message.seq = row.seq;
  const record = ctx.pipeline.recordOf(appended, event);
  void ctx.pipeline.afterCommit([record]);
  if (appended.mentions_after !== null && appended.mentions_after !== appended.mentions_before) {
    tellOtherDevices(ctx, authorId, {
      channelId,
      lastReadSeq: record.seq,
      mentionCount: appended.mentions_after,
    });
  }
  return row;
}

/** The `message.created` payload of a message posted to its channel. */
function eventOf(row: MessageRow) {
  return { channelId: row.channelId, conversation_id: row.channelId, message: presentMessage(row) };
}

/**
 * Posting read the channel: the author's other devices learn the new mention count (the marker
 * they can take from the message itself). After the post's commit, on its own: the post is not
 * held up by it, and a lost notice only leaves a count that the next read corrects.
 */
function tellOtherDevices(ctx: ChatContext, authorId: string, state: ChannelReadState): void {
  ctx.pipeline
    .publish([{ type: 'read.updated', topic: userChatTopic(authorId), payload: { ...state } }])
    .catch((err: unknown) => {
      ctx.logger.warn({ err, channelId: state.channelId }, 'could not send read.updated');
    });
}

async function findByClientMsgId(
  ctx: ChatContext,
  channelId: string,
  authorId: string,
  clientMsgId: string,
): Promise<MessageRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.channelId, channelId),
        eq(messages.authorId, authorId),
        eq(messages.clientMsgId, clientMsgId),
      ),
    );
  return row;
}

async function threadRootOf(
  ctx: ChatContext,
  channelId: string,
  rootId: string,
): Promise<MessageRow> {
  const [root] = await ctx.db
    .select()
    .from(messages)
    .where(and(eq(messages.id, rootId), eq(messages.channelId, channelId)));
  if (!root) throw new AppError('not_found', 'threadRootId: no such message in this channel.');
  if (root.threadRootId) {
    throw new AppError('invalid_request', 'threadRootId: this is a reply; reply to its root.');
  }
  if (root.deletedAt) throw new AppError('gone', 'threadRootId: this message was deleted.');
  return root;
}

/**
 * Raises the channel mention counts of the people the message notifies (never the sender). A
 * thread reply notifies only those it names: it is not posted to the channel, so its @channel
 * and @here reach nobody (the read-state queries count the same way).
 */
async function countMentions(tx: Transaction, row: MessageRow): Promise<void> {
  const everyone = !row.threadRootId && (row.mentionsChannel || row.mentionsHere);
  const mentioned = row.mentionUserIds.filter((id) => id !== row.authorId);
  if (!everyone && mentioned.length === 0) return;
  await tx
    .update(channelMembers)
    .set({ mentionCount: sql`${channelMembers.mentionCount} + 1` })
    .where(
      and(
        eq(channelMembers.channelId, row.channelId),
        ne(channelMembers.userId, row.authorId),
        everyone ? undefined : inArray(channelMembers.userId, mentioned),
      ),
    );
}

/**
 * The root's summary, and who follows the thread: its author, everyone who replied (their
 * thread read marker moves to their reply) and everyone mentioned in a reply (counted).
 */
async function updateThread(tx: Transaction, reply: MessageRow, root: MessageRow): Promise<void> {
  await tx
    .update(messages)
    .set({
      replyCount: sql`${messages.replyCount} + 1`,
      lastReplySeq: sql`greatest(coalesce(${messages.lastReplySeq}, 0), ${reply.seq})`,
      lastReplyAt: reply.createdAt,
      threadParticipantIds: sql`case when ${reply.authorId}::uuid = any(${messages.threadParticipantIds})
        then ${messages.threadParticipantIds}
        else array_append(${messages.threadParticipantIds}, ${reply.authorId}::uuid) end`,
    })
    .where(eq(messages.id, root.id));
  const updatedAt = reply.createdAt;
  if (root.authorId !== reply.authorId) {
    await tx
      .insert(threadFollows)
      .values({ rootId: root.id, userId: root.authorId, updatedAt })
      .onConflictDoNothing();
  }
  await tx
    .insert(threadFollows)
    .values({ rootId: root.id, userId: reply.authorId, lastReadSeq: reply.seq, updatedAt })
    .onConflictDoUpdate({
      target: [threadFollows.rootId, threadFollows.userId],
      set: {
        following: true,
        lastReadSeq: sql`greatest(${threadFollows.lastReadSeq}, ${reply.seq})`,
        updatedAt,
      },
    });
  const mentioned = reply.mentionUserIds.filter((id) => id !== reply.authorId);
  if (mentioned.length > 0) {
    await tx
      .insert(threadFollows)
      .values(mentioned.map((userId) => ({ rootId: root.id, userId, mentionCount: 1, updatedAt })))
      .onConflictDoUpdate({
        target: [threadFollows.rootId, threadFollows.userId],
        set: {
          following: true,
          mentionCount: sql`${threadFollows.mentionCount} + 1`,
          updatedAt,
        },
      });
  }
}
