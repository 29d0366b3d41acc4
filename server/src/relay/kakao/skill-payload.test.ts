import { describe, expect, it } from 'vitest';
import { skillPayload } from '../test-support/skill-payload.js';
import { formatKoreanTime, startOfKoreanDay } from './commands/status.js';
import {
  conversationKeyOf,
  conversationRefOf,
  normalizedMessageOf,
  skillPayloadSchema,
} from './skill-payload.js';

describe('SkillPayload', () => {
  it('keys a conversation on the bot id and the channel user key', () => {
    const payload = skillPayloadSchema.parse(
      skillPayload({ utterance: 'hi', userKey: 'pf1', botId: 'bot1' }),
    );
    expect(conversationRefOf(payload)).toEqual({
      conversationKey: 'bot1:pf1',
      kakaoChannelId: 'bot1',
      plusfriendUserKey: 'pf1',
    });
    expect(normalizedMessageOf(payload)).toEqual({ userId: 'pf1', text: 'hi', channelId: 'bot1' });
  });

  it('falls back to the per-bot user id and the default bot', () => {
    const payload = skillPayloadSchema.parse({
      userRequest: { utterance: 'hi', user: { id: 'bu1', properties: { plusfriendUserKey: '' } } },
      bot: null,
    });
    expect(conversationKeyOf(payload)).toBe('default:bu1');
  });

  it('keeps fields it does not know', () => {
    const raw = skillPayload({ utterance: 'hi', callbackUrl: 'https://bot-api.kakao.com/x' });
    expect(skillPayloadSchema.parse(raw)).toEqual(raw);
  });
});

describe('Korean time', () => {
  it('formats an instant as YYYY-MM-DD HH:MM:SS at UTC+9', () => {
    expect(formatKoreanTime(new Date('2026-03-01T15:04:05.678Z'))).toBe('2026-03-02 00:04:05');
  });

  it('starts the day at midnight in Seoul', () => {
    expect(startOfKoreanDay(Date.parse('2026-03-01T14:59:59Z')).toISOString()).toBe(
      '2026-02-28T15:00:00.000Z',
    );
    expect(startOfKoreanDay(Date.parse('2026-03-01T15:00:00Z')).toISOString()).toBe(
      '2026-03-01T15:00:00.000Z',
    );
  });
});
