import { describe, expect, it } from 'vitest';
import { messageEventJson, type MessageEventPayload } from './events.js';

describe('messageEventJson', () => {
  it('is the JSON text of the payload, built from its bodies’ texts', () => {
    const payload: MessageEventPayload = {
      id: '5f0c6a9e-1c1e-4d55-9a63-2b8c2f7c1e01',
      conversationKey: 'bot "1"\\:user\n\u2028한글',
      kakaoPayload: { userRequest: { utterance: 'hi "there"\n', user: { id: 'u' } }, n: [1, null] },
      normalized: { userId: 'u', text: 'hi "there"\n', channelId: 'default' },
      createdAt: '2026-12-04T18:00:00.000Z',
    };
    const json = messageEventJson(
      payload,
      JSON.stringify(payload.kakaoPayload),
      JSON.stringify(payload.normalized),
    );
    expect(json).toBe(JSON.stringify(payload));
    expect(JSON.parse(json)).toEqual(payload);
  });
});
