// The events an agent receives, in the shapes the OpenClaw plugin reads. Each is an outbox
// event on the account's (or session's) topic; its seq is the SSE `id:`.

export const MESSAGE_EVENT = 'message';
export const PAIRING_COMPLETE_EVENT = 'pairing_complete';
export const PAIRING_EXPIRED_EVENT = 'pairing_expired';
/**
 * Not shown to agents: ends the streams opened before `revokedAt` with the credential it names,
 * on whichever node holds them (the token was rotated, the account disabled or deleted).
 */
export const ACCESS_REVOKED_EVENT = 'access_revoked';

/** What the plugin reads of a Kakao message: who, what, and which bot. */
export interface NormalizedMessage {
  /** The channel-level user key (`plusfriendUserKey`, else `user.id`). */
  readonly userId: string;
  readonly text: string;
  /** The Open Builder bot id (`bot.id`, else `default`). */
  readonly channelId: string;
}

export interface MessageEventPayload {
  readonly id: string;
  readonly conversationKey: string;
  readonly kakaoPayload: unknown;
  readonly normalized: NormalizedMessage;
  /** RFC 3339. */
  readonly createdAt: string;
  [key: string]: unknown;
}

/**
 * `JSON.stringify(payload)`, put together from the texts of its two bodies, which the writer has
 * serialized for their own columns already: each body is serialized once per message.
 */
export function messageEventJson(
  payload: MessageEventPayload,
  kakaoPayloadJson: string,
  normalizedJson: string,
): string {
  return (
    `{"id":${JSON.stringify(payload.id)},"conversationKey":${JSON.stringify(payload.conversationKey)},` +
    `"kakaoPayload":${kakaoPayloadJson},"normalized":${normalizedJson},` +
    `"createdAt":${JSON.stringify(payload.createdAt)}}`
  );
}

export interface PairingCompletePayload {
  /** The user part of the conversation key. */
  readonly kakaoUserId: string;
  readonly conversationKey: string;
  readonly accountId: string;
  /** RFC 3339. */
  readonly pairedAt: string;
  [key: string]: unknown;
}

export interface AccessRevokedPayload {
  /** RFC 3339. */
  readonly revokedAt: string;
  readonly reason: 'token_rotated' | 'disabled' | 'deleted';
  /** Which streams end: those on the relay token only, or those on any token of the account. */
  readonly credential: 'relay_token' | 'any';
  [key: string]: unknown;
}

export interface PairingExpiredPayload {
  /** `expired` (a pending session timed out), `unpaired`, `disconnected`, `blocked`, `disabled`. */
  readonly reason: string;
  [key: string]: unknown;
}
