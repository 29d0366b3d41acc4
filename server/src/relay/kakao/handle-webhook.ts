// What the webhook does with one SkillPayload, in the original relay's order: refresh the
// conversation, answer a command, refuse an unconnected conversation, else queue the message for
// the agent and tell Kakao the answer comes on the callback URL.
import type { RelayContext } from '../context.js';
import { withConnection } from '../../store/index.js';
import { EnqueueAbandonedError, queueIfConnected } from '../messages/enqueue.js';
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
  mayCommit: (cancel: () => void) => boolean,
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

  // The hot path, one statement: refresh the conversation and, when it is connected, queue the
  // message for its agent.
  const { queued } = await withConnection(ctx.db, (connection) => {
    // The statement commits as it ends, so this is the last moment to give up. Kakao already got
    // an error answer: a message queued now would look lost to its sender and answered to nobody.
    if (!mayCommit(connection.cancel)) throw new EnqueueAbandonedError();
    return queueIfConnected(ctx, connection.db, {
      ref,
      kakaoPayload: rawPayload,
      normalized: normalizedMessageOf(payload),
      callback,
      receivedAt: now,
    });
  });
  if (!queued) return textResponse(NOT_CONNECTED);
  void ctx.pipeline.afterCommit([queued.record]);
  ctx.logger.debug(
    {
      conversationKey: ref.conversationKey,
      messageId: queued.message.id,
      eventSeq: queued.message.eventSeq,
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
