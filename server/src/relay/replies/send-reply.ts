// An agent's answer to one inbound message, through the message's single-use Kakao callback.
// The callback is claimed with one conditional UPDATE, so of several replies to one message (the
// plugin streams blocks) exactly one reaches Kakao; the others learn why they did not (409 used,
// 410 expired or missing). A POST that got no answer at all releases the claim for a retry.
import { and, eq, inArray, isNotNull, isNull, gt } from 'drizzle-orm';
import { AppError } from '../../http/index.js';
import type { RelayContext } from '../context.js';
import { inboundMessages, outboundMessages } from '../schema.js';
import { isAllowedCallbackUrl } from './callback-policy.js';
import { postCallback } from './kakao-callback.js';
import type { SkillResponse } from './skill-response.js';

export interface SentReply {
  /** Epoch milliseconds, as the plugin reads it. */
  readonly deliveredAt: number;
  readonly outboundMessageId: string;
}

export async function sendReply(
  ctx: RelayContext,
  accountId: string,
  messageId: string,
  response: SkillResponse,
): Promise<SentReply> {
  const claimedAt = new Date(ctx.now());
  const [claimed] = await ctx.db
    .update(inboundMessages)
    .set({ callbackUsedAt: claimedAt })
    .where(
      and(
        eq(inboundMessages.id, messageId),
        eq(inboundMessages.accountId, accountId),
        isNull(inboundMessages.callbackUsedAt),
        isNotNull(inboundMessages.callbackUrl),
        gt(inboundMessages.callbackExpiresAt, claimedAt),
      ),
    )
    .returning({
      callbackUrl: inboundMessages.callbackUrl,
      conversationKey: inboundMessages.conversationKey,
    });
  if (!claimed?.callbackUrl) throw await whyUnclaimed(ctx, accountId, messageId);

  const release = () =>
    ctx.db
      .update(inboundMessages)
      .set({ callbackUsedAt: null })
      .where(and(eq(inboundMessages.id, messageId), eq(inboundMessages.callbackUsedAt, claimedAt)));

  const policy = { insecureHosts: ctx.config.RELAY_CALLBACK_INSECURE_HOSTS };
  if (!isAllowedCallbackUrl(policy, claimed.callbackUrl)) {
    await release();
    throw new AppError('callback_missing', 'This message has no callback URL the relay may use.');
  }

  const [outbound] = await ctx.db
    .insert(outboundMessages)
    .values({
      accountId,
      inboundMessageId: messageId,
      conversationKey: claimed.conversationKey,
      responsePayload: response,
      status: 'pending',
      createdAt: claimedAt,
    })
    .returning({ id: outboundMessages.id });
  const outboundMessageId = outbound!.id;

  const outcome = await postCallback(
    claimed.callbackUrl,
    response,
    ctx.config.RELAY_CALLBACK_TIMEOUT_MS,
  );
  const answeredAt = new Date(ctx.now());

  if (outcome.kind === 'unreachable') {
    await ctx.db
      .update(outboundMessages)
      .set({ status: 'failed', errorMessage: outcome.message })
      .where(eq(outboundMessages.id, outboundMessageId));
    await release();
    ctx.logger.warn({ messageId, outboundMessageId }, 'Kakao callback unreachable');
    throw new AppError('callback_failed', outcome.message, { outboundMessageId });
  }

  if (!outcome.accepted) {
    await ctx.db
      .update(outboundMessages)
      .set({
        status: 'failed',
        kakaoStatus: outcome.kakaoStatus ?? null,
        errorMessage: outcome.message ?? null,
      })
      .where(eq(outboundMessages.id, outboundMessageId));
    throw new AppError(
      'callback_failed',
      `Kakao refused the reply: ${outcome.message ?? outcome.kakaoStatus ?? 'no reason given'}`,
      { outboundMessageId, kakaoStatus: outcome.kakaoStatus ?? null },
    );
  }

  await ctx.db.transaction(async (tx) => {
    await tx
      .update(outboundMessages)
      .set({ status: 'sent', kakaoStatus: outcome.kakaoStatus ?? null, sentAt: answeredAt })
      .where(eq(outboundMessages.id, outboundMessageId));
    await tx
      .update(inboundMessages)
      .set({ status: 'acked', ackedAt: answeredAt })
      .where(
        and(
          eq(inboundMessages.id, messageId),
          inArray(inboundMessages.status, ['queued', 'delivered']),
        ),
      );
  });
  return { deliveredAt: answeredAt.getTime(), outboundMessageId };
}

/** Why a message's callback could not be claimed; never tells about another tenant's message. */
async function whyUnclaimed(
  ctx: RelayContext,
  accountId: string,
  messageId: string,
): Promise<AppError> {
  const [row] = await ctx.db
    .select({
      callbackUrl: inboundMessages.callbackUrl,
      callbackUsedAt: inboundMessages.callbackUsedAt,
    })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.id, messageId), eq(inboundMessages.accountId, accountId)));
  if (!row) return new AppError('not_found', 'Message not found');
  if (!row.callbackUrl) return new AppError('callback_missing');
  if (row.callbackUsedAt) return new AppError('callback_used');
  return new AppError('callback_expired');
}
