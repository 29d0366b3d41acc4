// Pre-framed raw writes must be indistinguishable from `ws`'s own: every payload size class
// (7-bit, 16-bit and 64-bit lengths), multi-byte text, and ordering with replies in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';
import { textFrameOf } from './ws-frame-writer.js';

describe('textFrameOf', () => {
  it.each([
    [0, 2],
    [125, 2],
    [126, 4],
    [65_535, 4],
    [65_536, 10],
  ])('encodes a %i-byte payload with a %i-byte header', (size, header) => {
    const frame = textFrameOf('a'.repeat(size));
    expect(frame.length).toBe(size + header);
    expect(frame[0]).toBe(0x81);
    const declared =
      header === 2
        ? frame[1]
        : header === 4
          ? frame.readUInt16BE(2)
          : Number(frame.readBigUInt64BE(2));
    expect(declared).toBe(size);
  });

  it('declares the UTF-8 length of multi-byte text and carries its bytes', () => {
    const text = 'héllo → 世界 🎉'.repeat(20);
    const frame = textFrameOf(text);
    expect(frame.readUInt16BE(2)).toBe(Buffer.byteLength(text));
    expect(frame.subarray(4).toString('utf8')).toBe(text);
  });
});

describe(`raw frame fan-out (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  it('delivers events of every size class intact and in order, coalesced or not', async () => {
    const token = await t.token('iris', { topics: ['sizes.*'] });
    const sockets = await Promise.all(
      [1, 2, 3].map(() => connectWs(`${t.wsUrl}/ws?token=${token}`)),
    );
    for (const s of sockets) await s.request({ op: 'subscribe', topics: ['sizes.t'] });
    const sizes = [0, 50, 120, 130, 1000, 65_000, 70_000, 300_000];
    const hub = t.server.realtime.hub;
    // Published back to back so several land on each socket within one tick.
    await Promise.all(
      sizes.map((size, i) =>
        hub.publish('sizes.t', { type: 'blob', i, text: 'é'.repeat(size / 2) }),
      ),
    );
    for (const socket of sockets) {
      await socket.next((f) => f.op === 'event' && f.i === sizes.length - 1, 10_000);
      expect(await socket.request({ op: 'ping' })).toMatchObject({ op: 'pong' });
      const got = socket.events('sizes.t');
      expect(got.map((f) => f.i)).toEqual(sizes.map((_, i) => i));
      got.forEach((f, i) => expect(f.text).toBe('é'.repeat(sizes[i]! / 2)));
      const seqs = got.map((f) => f.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      socket.close();
    }
  });
});
