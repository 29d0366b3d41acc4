// Chat over the realtime core: topic policies, the topics a connection gets at authentication
// (resumable per channel), following joins and leaves live, and the join, typing and read ops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import { activityTopic, channelTopic, userChatTopic } from '../topics.js';
import {
  joinChannel,
  leaveChannel,
  makeChannel,
  makeWorkspace,
  postMessage,
} from './test-fixtures.js';

describe(`chat realtime (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let carol: ChatTestUser;
  let dave: ChatTestUser;
  let workspaceId: string;
  let general: string;
  let secret: string;
  let elsewhere: string;
  let lobby: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob, carol, dave] = await makeChatUsers(t.server, ['alice', 'bob', 'carol', 'dave']);
    workspaceId = await makeWorkspace(t.server, alice.id, [bob.id, carol.id]);
    general = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    secret = await makeChannel(t.server, workspaceId, 'private', [alice.id, bob.id]);
    lobby = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id, carol.id]);
    const other = await makeWorkspace(t.server, dave.id);
    elsewhere = await makeChannel(t.server, other, 'public', [dave.id]);
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t?.stop();
  });

  /** Connects with the token in the handshake and waits for the `connected` frame. */
  async function connect(
    user: ChatTestUser,
  ): Promise<{ socket: TestSocket; positions: Record<string, number> }> {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${user.accessToken}`);
    sockets.push(socket);
    const connected = await socket.next((f) => f.op === 'connected');
    return { socket, positions: connected.positions as Record<string, number> };
  }

  it('lets whoever can read a channel subscribe to it and its typing, and users only their own topic', async () => {
    const cases: Array<[ChatTestUser, string, boolean]> = [
      [alice, channelTopic(secret), true],
      [carol, channelTopic(general), true], // public: the workspace may read it
      [carol, activityTopic(general), true],
      [carol, channelTopic(secret), false], // private, not a member
      [carol, activityTopic(secret), false],
      [dave, channelTopic(general), false], // another workspace
      [alice, channelTopic(elsewhere), false],
      [alice, channelTopic('not-a-uuid'), false],
      [alice, userChatTopic(alice.id), true],
      [alice, userChatTopic(bob.id), false],
    ];
    const byUser = new Map<string, TestSocket>();
    for (const [user, topic, allowed] of cases) {
      let socket = byUser.get(user.id);
      if (!socket) byUser.set(user.id, (socket = (await connect(user)).socket));
      const reply = await socket.request({ op: 'subscribe', topics: [topic] });
      expect(reply, `${user.username} → ${topic}`).toMatchObject(
        allowed ? { success: true } : { op: 'error', code: 'forbidden' },
      );
    }
  });

  it('subscribes a connection to its chat topic and channels at authentication, any way it authenticates', async () => {
    const { positions } = await connect(alice);
    expect(Object.keys(positions).sort()).toEqual(
      [
        `user.${alice.id}`,
        'broadcast',
        userChatTopic(alice.id),
        channelTopic(general),
        activityTopic(general),
        channelTopic(secret),
        activityTopic(secret),
        channelTopic(lobby),
        activityTopic(lobby),
      ].sort(),
    );
    const framed = await connectWs(`${t.wsUrl}/api/v1/ws`);
    sockets.push(framed);
    const auth = await framed.request({ op: 'auth', token: bob.accessToken });
    expect(auth).toMatchObject({ op: 'auth', success: true, userId: bob.id });
    expect(Object.keys(auth.positions as object)).toContain(channelTopic(secret));
    const header = await connectWs(`${t.wsUrl}/ws`, { authorization: `Bearer ${bob.accessToken}` });
    sockets.push(header);
    const connected = await header.next((f) => f.op === 'connected');
    expect(Object.keys(connected.positions as object)).toContain(channelTopic(general));

    await postMessage(t.server, general, alice.id, { body: 'to everyone' });
    for (const socket of [framed, header]) {
      expect(
        await socket.next((f) => f.op === 'event' && f.topic === channelTopic(general)),
      ).toMatchObject({
        type: 'message.created',
        conversation_id: general,
        message: { body: 'to everyone' },
      });
    }
  });

  it('resumes every channel from the positions given at authentication, exactly once', async () => {
    const first = await connect(bob);
    const before = first.positions[channelTopic(secret)]!;
    first.socket.close();
    await first.socket.closed;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await postMessage(t.server, secret, alice.id)).seq);
    const again = await connectWs(`${t.wsUrl}/ws`);
    sockets.push(again);
    const auth = await again.request({
      op: 'auth',
      token: bob.accessToken,
      positions: { [channelTopic(secret)]: before },
    });
    expect(auth).toMatchObject({ success: true });
    await postMessage(t.server, secret, alice.id, { body: 'live' });
    await again.next(
      (f) => f.topic === channelTopic(secret) && (f.message as { body?: string })?.body === 'live',
    );
    const seqs = again.events(channelTopic(secret)).map((f) => f.seq);
    expect(seqs.slice(0, 3)).toEqual(sent);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('follows channels joined and left while connected, before showing the event', async () => {
    const { socket } = await connect(carol);
    await joinChannel(t.server, secret, carol.id, workspaceId);
    const joined = await socket.next((f) => f.type === 'channel.joined');
    const subscribed = socket.frames.findIndex((f) => f.op === 'subscribed');
    expect(subscribed).toBeGreaterThanOrEqual(0);
    expect(subscribed).toBeLessThan(socket.frames.indexOf(joined));
    expect(Object.keys(socket.frames[subscribed]!.positions as object).sort()).toEqual(
      [channelTopic(secret), activityTopic(secret)].sort(),
    );
    const { seq } = await postMessage(t.server, secret, alice.id, { body: 'welcome' });
    expect(
      await socket.next((f) => f.topic === channelTopic(secret) && f.seq === seq),
    ).toMatchObject({
      type: 'message.created',
    });

    await leaveChannel(t.server, secret, carol.id, workspaceId);
    const left = await socket.next((f) => f.type === 'channel.left');
    const unsubscribed = socket.frames.findIndex((f) => f.op === 'unsubscribed');
    expect(unsubscribed).toBeLessThan(socket.frames.indexOf(left));
    await postMessage(t.server, secret, alice.id, { body: 'after carol left' });
    await postMessage(t.server, lobby, alice.id, { body: 'sentinel' });
    await socket.next((f) => (f.message as { body?: string } | undefined)?.body === 'sentinel');
    expect(
      socket.frames.some(
        (f) => (f.message as { body?: string } | undefined)?.body === 'after carol left',
      ),
    ).toBe(false);
  });

  it('answers seed 002 join with the conversation id, or an error frame', async () => {
    const { socket } = await connect(carol);
    expect(await socket.request({ op: 'join', conversation_id: general })).toMatchObject({
      op: 'join',
      success: true,
      conversation_id: general,
    });
    expect(await socket.request({ op: 'join', conversation_id: secret })).toMatchObject({
      op: 'error',
      code: 'not_found',
    });
    expect(await socket.request({ op: 'join' })).toMatchObject({
      op: 'error',
      code: 'invalid_frame',
    });
    expect(await socket.request({ op: 'leave', conversation_id: general })).toMatchObject({
      op: 'leave',
      success: true,
    });
  });

  it('sends and reacts with seed 002 frames; every subscriber gets the event', async () => {
    const sender = await connectWs(`${t.wsUrl}/ws`);
    const receiver = await connectWs(`${t.wsUrl}/ws`);
    sockets.push(sender, receiver);
    for (const [socket, user] of [
      [sender, alice],
      [receiver, bob],
    ] as const) {
      expect(await socket.request({ op: 'auth', token: user.accessToken })).toMatchObject({
        success: true,
      });
      expect(await socket.request({ op: 'join', conversation_id: general })).toMatchObject({
        op: 'join',
        success: true,
        conversation_id: general,
      });
    }
    const temp_id = `temp-${Date.now()}`;
    const sent = await sender.request({
      op: 'send',
      conversation_id: general,
      body: { text: 'Hello!' },
      temp_id,
    });
    expect(sent).toMatchObject({ op: 'send', success: true, temp_id });
    expect(typeof sent.message_id).toBe('string');
    expect(typeof sent.seq).toBe('number');
    for (const socket of [sender, receiver]) {
      expect(
        await socket.next((f) => f.type === 'message.created' && f.seq === sent.seq),
      ).toMatchObject({
        op: 'event',
        topic: channelTopic(general),
        conversation_id: general,
        message: { id: sent.message_id, body: 'Hello!', seq: sent.seq },
      });
    }
    const again = await sender.request({
      op: 'send',
      conversation_id: general,
      body: 'Hello!',
      temp_id,
    });
    expect(again).toMatchObject({ success: true, message_id: sent.message_id, seq: sent.seq });
    // Text PostgreSQL cannot store is the sender's error, not the server's.
    expect(
      await sender.request({ op: 'send', conversation_id: general, body: 'a\u0000b' }),
    ).toMatchObject({ op: 'error', code: 'invalid_frame', message: /NUL/ });
    expect(
      await sender.request({ op: 'send', conversation_id: general, body: 'half \ud800 a pair' }),
    ).toMatchObject({ op: 'error', code: 'invalid_frame', message: /surrogate/ });

    const reacted = await receiver.request({
      op: 'react',
      message_id: sent.message_id,
      emoji: '👍',
    });
    expect(reacted).toMatchObject({
      op: 'react',
      success: true,
      reactions: [{ emoji: '👍', count: 1 }],
    });
    expect(await sender.next((f) => f.type === 'reaction.added')).toMatchObject({
      messageId: sent.message_id,
      emoji: '👍',
      userId: bob.id,
      count: 1,
    });
    await receiver.request({ op: 'react', message_id: sent.message_id, emoji: '👍', remove: true });
    expect(await sender.next((f) => f.type === 'reaction.removed')).toMatchObject({ count: 0 });

    const outsider = (await connect(carol)).socket;
    expect(
      await outsider.request({ op: 'send', conversation_id: general, body: 'hi', temp_id: 'x' }),
    ).toMatchObject({ op: 'error', code: 'forbidden' });
    expect(
      await outsider.request({ op: 'send', conversation_id: secret, body: 'hi' }),
    ).toMatchObject({ op: 'error', code: 'not_found' });
    expect(await outsider.request({ op: 'send', conversation_id: general })).toMatchObject({
      op: 'error',
      code: 'invalid_frame',
    });
    expect(
      await outsider.request({ op: 'react', message_id: sent.message_id, emoji: '👍' }),
    ).toMatchObject({ op: 'error', code: 'forbidden' });
  });

  it('sends typing to the channel without a seq, throttled, and only for members who can post', async () => {
    const watcher = (await connect(bob)).socket;
    const typist = (await connect(alice)).socket;
    for (let i = 0; i < 3; i++) {
      expect(await typist.request({ op: 'typing', conversation_id: general })).toMatchObject({
        op: 'typing',
        success: true,
      });
    }
    const typing = await watcher.next((f) => f.type === 'typing' && f.userId === alice.id);
    expect(typing).toMatchObject({
      topic: activityTopic(general),
      channelId: general,
      expiresInMs: 5000,
    });
    expect(typing.seq).toBeUndefined();
    // Bob's own typing arriving after Alice's frames proves hers were handled and dropped.
    await (await connect(bob)).socket.request({ op: 'typing', conversation_id: general });
    await watcher.next((f) => f.type === 'typing' && f.userId === bob.id);
    expect(watcher.frames.filter((f) => f.type === 'typing' && f.userId === alice.id)).toHaveLength(
      1,
    );

    const outsider = (await connect(carol)).socket;
    expect(await outsider.request({ op: 'typing', conversation_id: general })).toMatchObject({
      op: 'error',
      code: 'forbidden',
    });
    expect(await outsider.request({ op: 'typing', conversation_id: secret })).toMatchObject({
      op: 'error',
      code: 'not_found',
    });
  });
});
