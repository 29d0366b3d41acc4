// A Kakao message for a paired conversation becomes, in one transaction, a `message` event on its
// account's topic and the inbound_messages row that carries the event's seq: the agent's stream
// delivers the event (live or on resume from PostgreSQL) and the row tracks its life
// (queued → delivered → acked | expired) and its callback URL.
import { randomUUID } from 'node:crypto';
import type { RelayContext } from '../context.js';
import { MESSAGE_EVENT, type MessageEventPayload, type NormalizedMessage } from '../events.js';
import { inboundMessages } from '../schema.js';
import { accountTopic } from '../topics.js';

export interface InboundMessage {
  readonly accountId: string;
  readonly conversationKey: string;
  /** The SkillPayload exactly as Kakao sent it. */
  readonly kakaoPayload: unknown;
  readonly normalized: NormalizedMessage;
  readonly callbackUrl: string | null;
  readonly callbackExpiresAt: Date | null;
}

export interface EnqueuedMessage {
  readonly id: string;
  readonly eventSeq: number;
  readonly createdAt: Date;
}

/** Thrown (and rolled back) when the caller stopped waiting before the commit. */
export class EnqueueAbandonedError extends Error {
  constructor() {
    super('the webhook answered before the message was queued');
    this.name = 'EnqueueAbandonedError';
  }
}

export async function enqueueInboundMessage(
  ctx: RelayContext,
  message: InboundMessage,
  options: {
    /**
     * Asked right before COMMIT: false means the caller has stopped waiting and the message must
     * not be queued. Once it said true the caller waits for the commit's outcome.
     */
    mayCommit?: () => boolean;
  } = {},
): Promise<EnqueuedMessage> {
  const id = randomUUID();
  const createdAt = new Date(ctx.now());
  const payload: MessageEventPayload = {
    id,
    conversationKey: message.conversationKey,
    kakaoPayload: message.kakaoPayload,
    normalized: message.normalized,
    createdAt: createdAt.toISOString(),
  };
  return ctx.pipeline.transaction(async (tx, outbox) => {
    const [record] = await outbox.append([
      { type: MESSAGE_EVENT, topic: accountTopic(message.accountId), payload },
    ]);
    const eventSeq = record!.seq;
    await tx.insert(inboundMessages).values({
      id,
      accountId: message.accountId,
      conversationKey: message.conversationKey,
      kakaoPayload: message.kakaoPayload,
      normalizedMessage: message.normalized,
      callbackUrl: message.callbackUrl,
      callbackExpiresAt: message.callbackExpiresAt,
      status: 'queued',
      eventSeq,
      createdAt,
    });
    // Kakao already got an error answer: a message queued now would look lost to its sender
    // and answered to nobody.
    if (options.mayCommit && !options.mayCommit()) throw new EnqueueAbandonedError();
    return { id, eventSeq, createdAt };
  });
}
