// Kakao i Open Builder's SkillPayload: what the bot POSTs to the webhook for every utterance.
// Only the fields the relay routes on are required; everything else Kakao sends (intent, action,
// flow, contexts, fields Kakao adds later) is kept as it came, because the agent receives the
// raw payload.
import { z } from 'zod';
import type { NormalizedMessage } from '../events.js';
import type { ConversationRef } from '../pairing/index.js';

/** What Kakao sends as the bot id when a payload has none (the tester, some channels). */
export const DEFAULT_CHANNEL_ID = 'default';

export const skillPayloadSchema = z.looseObject({
  userRequest: z.looseObject({
    utterance: z.string(),
    // Present only when the block has Kakao's AI-chatbot callback enabled.
    callbackUrl: z.string().nullish(),
    user: z.looseObject({
      id: z.string().min(1),
      properties: z
        .looseObject({
          plusfriendUserKey: z.string().nullish(),
        })
        .nullish(),
    }),
  }),
  bot: z
    .looseObject({
      id: z.string().nullish(),
    })
    .nullish(),
});

export type SkillPayload = z.output<typeof skillPayloadSchema>;

/** The channel-level user key (the same across a channel's bots), else the per-bot user id. */
export function kakaoUserKeyOf(payload: SkillPayload): string {
  return payload.userRequest.user.properties?.plusfriendUserKey || payload.userRequest.user.id;
}

/** The Open Builder bot id, which the original relay called the channel id. */
export function channelIdOf(payload: SkillPayload): string {
  return payload.bot?.id || DEFAULT_CHANNEL_ID;
}

/** `<bot id or 'default'>:<plusfriendUserKey or user.id>`. */
export function conversationKeyOf(payload: SkillPayload): string {
  return `${channelIdOf(payload)}:${kakaoUserKeyOf(payload)}`;
}

export function conversationRefOf(payload: SkillPayload): ConversationRef {
  return {
    conversationKey: conversationKeyOf(payload),
    kakaoChannelId: channelIdOf(payload),
    plusfriendUserKey: kakaoUserKeyOf(payload),
  };
}

/** The message as the plugin reads it. */
export function normalizedMessageOf(payload: SkillPayload): NormalizedMessage {
  return {
    userId: kakaoUserKeyOf(payload),
    text: payload.userRequest.utterance,
    channelId: channelIdOf(payload),
  };
}
