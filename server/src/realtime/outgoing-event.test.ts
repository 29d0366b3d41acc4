import { describe, expect, it } from 'vitest';
import type { OutgoingEvent } from './connection.js';
import { makeOutgoing } from './hub.js';

describe('an outgoing event', () => {
  const event = () => makeOutgoing('chat.channel.c1', 7, '{"type":"message.created","id":"m1"}');

  it('reads its type and builds its WebSocket frame once', () => {
    const e = event();
    expect(e.type()).toBe('message.created');
    expect(e.wsFrame()).toBe(e.wsFrame());
    expect(JSON.parse(e.wsFrame())).toMatchObject({ topic: 'chat.channel.c1', seq: 7 });
  });

  it('renders once per function, for every sink that asks with it', () => {
    const e = event();
    let sseCalls = 0;
    const sse = (o: OutgoingEvent) => {
      sseCalls++;
      return { frame: `id: ${o.seq}\nevent: ${o.type()}\ndata: ${o.data}\n\n` };
    };
    const first = e.renderedBy(sse);
    expect(e.renderedBy(sse)).toBe(first);
    expect(sseCalls).toBe(1);
    expect(first.frame).toBe(
      'id: 7\nevent: message.created\ndata: {"type":"message.created","id":"m1"}\n\n',
    );

    // Another framing of the same event gets its own result.
    const length = (o: OutgoingEvent) => o.data.length;
    expect(e.renderedBy(length)).toBe(36);
    expect(e.renderedBy(sse)).not.toBe(first);
    expect(e.renderedBy(sse)).toEqual(first);
  });
});
