import { describe, expect, it } from 'vitest';
import { encodeOutboxEvent } from '../../pipeline/durable-topics.js';
import { MESSAGE_EVENT } from '../events.js';
import { messageIdOf } from './frames.js';

describe('messageIdOf', () => {
  const payload = {
    id: '0b5d6a2c-1111-4444-8888-123456789abc',
    conversationKey: 'bot:user',
    kakaoPayload: { userRequest: { utterance: 'a "quoted" id: x' } },
    createdAt: '2026-12-03T00:00:00.000Z',
  };

  it('reads the id of a live event, as the relay encodes it', () => {
    const data = encodeOutboxEvent(MESSAGE_EVENT, payload, JSON.stringify(payload));
    expect(data.startsWith('{"type":"message","id":"')).toBe(true);
    expect(messageIdOf(data)).toBe(payload.id);
  });

  it('parses data in any other order or with an escaped id', () => {
    expect(messageIdOf(JSON.stringify({ ...payload, type: MESSAGE_EVENT }))).toBe(payload.id);
    expect(messageIdOf(JSON.stringify({ type: MESSAGE_EVENT, id: 'a"b', x: 1 }))).toBe('a"b');
    expect(messageIdOf(JSON.stringify({ type: MESSAGE_EVENT, id: 'a\\b' }))).toBe('a\\b');
  });

  it('is undefined without a string id or for data that is not JSON', () => {
    expect(messageIdOf(JSON.stringify({ type: MESSAGE_EVENT, id: 7 }))).toBeUndefined();
    expect(messageIdOf('{"type":"message","id":"unterminated')).toBeUndefined();
    expect(messageIdOf('not json')).toBeUndefined();
  });
});
