// What the webhook does with one SkillPayload, in the original relay's order: refresh the
// conversation, answer a command, refuse an unconnected conversation, else queue the message for
// the agent and tell Kakao the answer comes on the callback URL.
import type { RelayContext } from '../context.js';
import { appendInboundMessage, EnqueueAbandonedError } from '../messages/enqueue.js';
import { isAllowedCallbackUrl } from '../replies/callback-policy.js';
import { parseCommand, runCommand } from './commands/index.js';
import { isConnected, touchConversation, type KakaoCallback } from './conversation.js';
import {
  CALLBACK_ACK,
  CALLBACK_NOT_ENABLED,
  NOT_CONNECTED,
  textResponse,
  type TextSkillResponse,
} from './replies.js';
import { conversationRefOf, normalizedMessageOf, type SkillPayload } from './skill-payload.js';

export type WebhookAnswer = TextSkillResponse | typeof CALLBACK_ACK;

export async function handleSkillPayload(
  ctx: RelayContext,
  rawPayload: unknown,
  payload: SkillPayload,
  mayCommit: () => boolean,
): Promise<WebhookAnswer> {
  const now = new Date(ctx.now());
  const ref = conversationRefOf(payload);
  const callback = usableCallback(ctx, payload, ref.conversationKey, now);
  const command = parseCommand(payload.userRequest.utterance);
  if (command || !callback) {
    const conversation = await touchConversation(ctx.db, ref, callback, now);
    if (command) return textResponse(await runCommand(ctx, conversation, command));
    if (!isConnected(conversation)) return textResponse(NOT_CONNECTED);
    // Without Kakao's callback nothing the agent says could ever reach the user: say so now
    // instead of queueing a message nobody can answer.
    return textResponse(CALLBACK_NOT_ENABLED);
  }

  // The hot path, one transaction: refresh the conversation and, when it is connected, queue
  // the message for its agent.
  const appended = await ctx.db.transaction(async (tx) => {
    const conversation = await touchConversation(tx, ref, callback, now);
    if (!isConnected(conversation)) return undefined;
    const result = await appendInboundMessage(ctx, tx, {
      accountId: conversation.accountId,
      conversationKey: ref.conversationKey,
      kakaoPayload: rawPayload,
      normalized: normalizedMessageOf(payload),
      callbackUrl: callback.url,
      callbackExpiresAt: callback.expiresAt,
    });
    // Kakao already got an error answer: a message queued now would look lost to its sender
    // and answered to nobody.
    if (!mayCommit()) throw new EnqueueAbandonedError();
    return result;
  });
  if (!appended) return textResponse(NOT_CONNECTED);
  void ctx.pipeline.afterCommit([appended.record]);
  ctx.logger.debug(
    {
      conversationKey: ref.conversationKey,
      messageId: appended.queued.id,
      eventSeq: appended.queued.eventSeq,
    },
    'kakao message queued',
  );
  return CALLBACK_ACK;
}

/** The payload's callback URL if the relay may post to it; a refused one counts as none. */
function usableCallback(
  ctx: RelayContext,
  payload: SkillPayload,
  conversationKey: string,
  now: Date,
): KakaoCallback | undefined {
  const url = payload.userRequest.callbackUrl;
  if (!url) return undefined;
  if (!isAllowedCallbackUrl({ insecureHosts: ctx.config.RELAY_CALLBACK_INSECURE_HOSTS }, url)) {
    // The host only: the URL's path is Kakao's single-use callback token.
    ctx.logger.warn(
      { conversationKey, callbackHost: hostOf(url) },
      'kakao callback URL refused by the callback policy; treated as missing',
    );
    return undefined;
  }
  return { url, expiresAt: new Date(now.getTime() + ctx.config.CALLBACK_TTL_SECONDS * 1000) };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
