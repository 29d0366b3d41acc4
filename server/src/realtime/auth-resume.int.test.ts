// Resuming the topics a connection gets at authentication (its user topic, broadcast) from the
// positions in the `auth` frame: what was missed comes first, exactly once, then live events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

describe(`auth frame positions (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  it('replays the user topic after the given seq, then goes on live, each event once', async () => {
    const user = `rita-${Date.now().toString(36)}`;
    const token = await t.token(user);
    const hub = t.server.realtime.hub;
    const first = await connectWs(`${t.wsUrl}/ws`);
    expect(await first.request({ op: 'auth', token })).toMatchObject({ success: true });
    for (let n = 1; n <= 3; n++) await hub.push([user], { type: 'tick', n });
    await first.next((f) => f.op === 'event' && f.n === 3);
    const last = first.events(`user.${user}`).at(-1)!.seq as number;
    first.close();
    await first.closed;

    for (let n = 4; n <= 8; n++) await hub.push([user], { type: 'tick', n });
    const second = await connectWs(`${t.wsUrl}/ws`);
    const auth = await second.request({
      op: 'auth',
      token,
      positions: { [`user.${user}`]: last, 'other.topic': 1 },
    });
    expect(auth).toMatchObject({ success: true, userId: user });
    await hub.push([user], { type: 'tick', n: 9 });
    await second.next((f) => f.op === 'event' && f.n === 9);
    const got = second.events(`user.${user}`);
    expect(got.map((f) => f.n)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(got.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6].map((i) => last + i));
    second.close();
  });

  it('refuses positions that are not seqs', async () => {
    const socket = await connectWs(`${t.wsUrl}/ws`);
    const reply = await socket.request({
      op: 'auth',
      token: await t.token('sam'),
      positions: { 'user.sam': -1 },
    });
    expect(reply).toMatchObject({ op: 'error', code: 'invalid_frame' });
    socket.close();
  });
});
