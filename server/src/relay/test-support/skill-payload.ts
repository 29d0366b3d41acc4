// SkillPayloads as Kakao i Open Builder sends them from a fallback block, for tests that play
// Kakao: the fields the relay reads plus the ones it passes through untouched.
import { randomUUID } from 'node:crypto';

export interface SkillPayloadOptions {
  /** What the user typed. */
  utterance: string;
  /** The channel-level user key (`plusfriendUserKey`); a fresh one when omitted. */
  userKey?: string;
  /** The per-bot user id (`user.id`); derived from the user key when omitted. */
  botUserKey?: string;
  /** Omit the channel user key, as Kakao does for users who never added the channel. */
  withoutPlusfriendUserKey?: boolean;
  /** `bot.id`; `null` sends a payload without a bot. */
  botId?: string | null;
  /** Present only when the block has the AI-chatbot callback enabled. */
  callbackUrl?: string;
}

/** A channel user key in Kakao's shape (opaque, URL-safe). */
export function newKakaoUserKey(): string {
  return `pf_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** A callback URL in Kakao's shape on `base` (Kakao's own host by default). */
export function kakaoCallbackUrl(base = 'https://bot-api.kakao.com'): string {
  return `${base.replace(/\/+$/, '')}/callback/${randomUUID()}?token=${randomUUID().replace(/-/g, '')}`;
}

export const DEFAULT_TEST_BOT_ID = '64f0c0ffee0123456789abcd';

export function skillPayload(options: SkillPayloadOptions): Record<string, unknown> {
  const userKey = options.userKey ?? newKakaoUserKey();
  const botId = options.botId === undefined ? DEFAULT_TEST_BOT_ID : options.botId;
  const blockId = '64f0b10c0000000000000001';
  const properties: Record<string, unknown> = {
    botUserKey: options.botUserKey ?? `bu_${userKey}`,
    bot_user_key: options.botUserKey ?? `bu_${userKey}`,
    isFriend: true,
  };
  if (!options.withoutPlusfriendUserKey) {
    properties.plusfriendUserKey = userKey;
    properties.plusfriend_user_key = userKey;
  }
  const userRequest: Record<string, unknown> = {
    timezone: 'Asia/Seoul',
    params: { ignoreMe: 'true' },
    block: { id: blockId, name: '폴백 블록' },
    utterance: options.utterance,
    lang: 'ko',
    user: {
      id: options.botUserKey ?? `bu_${userKey}`,
      type: 'botUserKey',
      properties,
    },
  };
  if (options.callbackUrl !== undefined) userRequest.callbackUrl = options.callbackUrl;
  return {
    intent: { id: blockId, name: '폴백 블록', extra: { reason: { code: 1, message: 'OK' } } },
    userRequest,
    ...(botId === null ? {} : { bot: { id: botId, name: '릴레이 봇' } }),
    action: {
      name: 'relay_skill',
      clientExtra: null,
      params: {},
      id: '64f0a5c00000000000000001',
      detailParams: {},
    },
    contexts: [],
    flow: {
      lastBlock: { id: blockId, name: '폴백 블록' },
      trigger: { type: 'TEXT_INPUT' },
    },
  };
}

/** The conversation key the relay derives for a payload built with these options. */
export function conversationKeyFor(options: {
  userKey: string;
  botId?: string | null;
  botUserKey?: string;
  withoutPlusfriendUserKey?: boolean;
}): string {
  const botId = options.botId === undefined ? DEFAULT_TEST_BOT_ID : (options.botId ?? 'default');
  const user = options.withoutPlusfriendUserKey
    ? (options.botUserKey ?? `bu_${options.userKey}`)
    : options.userKey;
  return `${botId}:${user}`;
}

export interface WebhookAnswer {
  readonly status: number;
  // Bodies are checked by value with toMatchObject; a loose type keeps the reads short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: Record<string, any>;
}

/** POSTs a payload (or a raw body) to the webhook over HTTP, as Kakao does. */
export async function postSkillPayload(
  baseUrl: string,
  payload: Record<string, unknown> | string,
  options: { path?: string; headers?: Record<string, string> } = {},
): Promise<WebhookAnswer> {
  const response = await fetch(`${baseUrl}${options.path ?? '/kakao-talkchannel/webhook'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as WebhookAnswer['body']) : {} };
}

/** The text of a one-bubble SkillResponse, or undefined for any other answer. */
export function replyText(body: WebhookAnswer['body']): string | undefined {
  const outputs = (body.template as { outputs?: { simpleText?: { text?: string } }[] } | undefined)
    ?.outputs;
  return outputs?.length === 1 ? outputs[0]?.simpleText?.text : undefined;
}
