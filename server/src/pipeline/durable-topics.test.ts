import { describe, expect, it } from 'vitest';
import { encodeOutboxEvent } from './durable-topics.js';

describe('encodeOutboxEvent', () => {
  const payload = { id: 'm1', text: 'héllo "there"', nested: { n: [1, 2] } };

  it('puts the type in front of the payload, from its JSON text when given', () => {
    const encoded = encodeOutboxEvent('message', payload);
    expect(encoded.startsWith('{"type":"message",')).toBe(true);
    expect(JSON.parse(encoded)).toEqual({ type: 'message', ...payload });
    expect(encodeOutboxEvent('message', payload, JSON.stringify(payload))).toBe(encoded);
    expect(encodeOutboxEvent('ping', {}, '{}')).toBe('{"type":"ping"}');
  });

  it('lets the event type win over a payload field named type, with or without the text', () => {
    const clashing = { type: 'other', a: 1 };
    const encoded = encodeOutboxEvent('message', clashing, JSON.stringify(clashing));
    expect(encoded).toBe('{"type":"message","a":1}');
  });
});
