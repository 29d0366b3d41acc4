// The payload of `thread.updated`: a root's reply count, last reply and participants.
import { eq } from 'drizzle-orm';
import type { Database } from '../../../store/index.js';
import { messages } from '../../schema.js';

export async function threadSummary(db: Database, rootId: string) {
  const [root] = await db
    .select({
      replyCount: messages.replyCount,
      lastReplySeq: messages.lastReplySeq,
      lastReplyAt: messages.lastReplyAt,
      threadParticipantIds: messages.threadParticipantIds,
    })
    .from(messages)
    .where(eq(messages.id, rootId));
  return {
    threadRootId: rootId,
    replyCount: root?.replyCount ?? 0,
    lastReplySeq: root?.lastReplySeq ?? null,
    lastReplyAt: root?.lastReplyAt?.toISOString() ?? null,
    threadParticipantIds: root?.threadParticipantIds ?? [],
  };
}
