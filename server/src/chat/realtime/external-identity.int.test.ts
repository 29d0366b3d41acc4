// Tokens of an external identity provider (RS256, verified with JWT_PUBLIC_KEY) over REST,
// WebSocket and SSE: every path maps `iss|sub` to the same chat account, created on first contact
// whichever path comes first, so the connection is the chat user (topics, presence, ops).
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test-support/processes.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { openSse, type TestStream } from '../../test-support/sse-client.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { callApi, makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import { users } from '../schema.js';
import { activityTopic, channelTopic, userChatTopic } from '../topics.js';
import { makeChannel, makeWorkspace, postMessage } from './test-fixtures.js';

const ISSUER = 'https://idp.example.com';

describe(`external identities over realtime (${target})`, () => {
  let t: TestServer;
  let privateKey: CryptoKey;
  let alice: ChatTestUser;
  const sockets: TestSocket[] = [];
  const streams: TestStream[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    t = await startTestServer({ env: { JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey) } });
    [alice] = await makeChatUsers(t.server, ['alice']);
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const stream of streams) stream.close();
    await t?.stop();
  });

  let subjects = 0;
  const freshSubject = () => `idp-user-${Date.now().toString(36)}-${(subjects += 1)}`;

  const externalToken = (subject: string, issuer = ISSUER) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(subject)
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);

  const me = async (token: string) => {
    const res = await callApi(t.server, 'GET', '/api/v1/users/me', undefined, token);
    expect(res.status).toBe(200);
    return res.body as { id: string; username: string };
  };

  async function connectWithToken(token: string) {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    sockets.push(socket);
    const connected = await socket.next((f) => f.op === 'connected');
    return {
      socket,
      userId: connected.userId as string,
      positions: connected.positions as Record<string, number>,
    };
  }

  it('REST, WebSocket (handshake and auth frame) and SSE with the same token are the same user', async () => {
    const subject = freshSubject();
    const token = await externalToken(subject);
    const account = await me(token);
    expect(account.id).toMatch(/^[0-9a-f-]{36}$/);

    const handshake = await connectWithToken(token);
    expect(handshake.userId).toBe(account.id);
    expect(Object.keys(handshake.positions)).toEqual(
      expect.arrayContaining([`user.${account.id}`, 'broadcast', userChatTopic(account.id)]),
    );

    const framed = await connectWs(`${t.wsUrl}/api/v1/ws`);
    sockets.push(framed);
    expect(await framed.request({ op: 'auth', token })).toMatchObject({
      op: 'auth',
      success: true,
      userId: account.id,
    });
    // A new token of the same identity refreshes the connection: it is the same user.
    expect(await framed.request({ op: 'auth', token: await externalToken(subject) })).toMatchObject(
      { success: true, userId: account.id },
    );

    const stream = await openSse(`${t.url}/api/v1/events/stream`, {
      authorization: `Bearer ${token}`,
    });
    streams.push(stream);
    expect((await stream.next((r) => r.event === 'connected')).data).toMatchObject({
      userId: account.id,
    });

    // The user topic is keyed by the chat account: a push to it reaches every one of them.
    await t.server.realtime.hub.push([account.id], { type: 'note.created', n: 1 });
    for (const socket of [handshake.socket, framed]) {
      expect(
        await socket.next((f) => f.type === 'note.created' && f.topic === `user.${account.id}`),
      ).toMatchObject({ n: 1 });
    }
    await stream.next((r) => r.event === 'note.created');
    expect((await me(token)).id).toBe(account.id);
  });

  it('creates the account on first contact over a WebSocket; it gets its channels, presence and ops', async () => {
    const token = await externalToken(freshSubject());
    const first = await connectWs(`${t.wsUrl}/ws`);
    sockets.push(first);
    const auth = await first.request({ op: 'auth', token });
    expect(auth).toMatchObject({ op: 'auth', success: true });
    const userId = auth.userId as string;
    expect(userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(auth.positions).toHaveProperty(userChatTopic(userId));
    expect((await me(token)).id).toBe(userId);
    first.close();
    await first.closed;
    // Offline first (the server sees the close a moment later, and presence is written in
    // batches), so the next connection is a transition the watcher hears.
    await waitFor('the first connection offline', async () =>
      (await t.server.realtime.presence.isOnline(userId)) ? undefined : true,
    );

    const workspaceId = await makeWorkspace(t.server, alice.id, [userId]);
    const channel = await makeChannel(t.server, workspaceId, 'public', [alice.id, userId]);
    // Presence is written in batches: watch for the change rather than poll for it.
    const watcher = await connectWithToken(alice.accessToken);
    await watcher.socket.request({ op: 'presence', userIds: [userId], watch: true });
    const { socket, positions } = await connectWithToken(token);
    expect(Object.keys(positions)).toEqual(
      expect.arrayContaining([channelTopic(channel), activityTopic(channel)]),
    );
    await watcher.socket.next(
      (f) => f.type === 'presence.changed' && f.userId === userId && f.online === true,
    );
    const presence = await fetch(`${t.url}/api/v1/presence?userIds=${userId}`, {
      headers: { authorization: `Bearer ${alice.accessToken}` },
    });
    expect(await presence.json()).toMatchObject({ presence: [{ userId, online: true }] });

    expect(await socket.request({ op: 'typing', conversation_id: channel })).toMatchObject({
      op: 'typing',
      success: true,
    });
    expect(
      await watcher.socket.next((f) => f.type === 'typing' && f.topic === activityTopic(channel)),
    ).toMatchObject({ userId });

    const { seq } = await postMessage(t.server, channel, alice.id, { body: 'hi there' });
    await socket.next((f) => f.topic === channelTopic(channel) && f.seq === seq);
    expect(await socket.request({ op: 'read', conversation_id: channel, seq })).toMatchObject({
      op: 'read',
      success: true,
      lastReadSeq: seq,
    });
    expect(
      await socket.request({ op: 'send', conversation_id: channel, body: 'from the idp user' }),
    ).toMatchObject({ op: 'send', success: true });
    const created = await watcher.socket.next(
      (f) =>
        f.type === 'message.created' &&
        (f.message as { body?: string }).body === 'from the idp user',
    );
    expect(created.message).toMatchObject({ authorId: userId });
  });

  it('keys accounts by issuer and subject: a subject never names another account', async () => {
    // A provider whose subject happens to be a chat account id does not get that account.
    const lookalike = await externalToken(alice.id);
    const account = await me(lookalike);
    expect(account.id).not.toBe(alice.id);
    expect((await connectWithToken(lookalike)).userId).toBe(account.id);

    const subject = freshSubject();
    const one = await me(await externalToken(subject, 'https://one.example.com'));
    const other = await me(await externalToken(subject, 'https://other.example.com'));
    expect(one.id).not.toBe(other.id);
  });

  it('keeps our own tokens as they are: their subject is the account, or no chat account', async () => {
    expect((await connectWithToken(alice.accessToken)).userId).toBe(alice.id);
    const realtimeOnly = await t.token('device-7');
    expect((await connectWithToken(realtimeOnly)).userId).toBe('device-7');
    const res = await callApi(t.server, 'GET', '/api/v1/users/me', undefined, realtimeOnly);
    expect(res.status).toBe(401);
  });

  it('refuses a deactivated account on every path', async () => {
    const token = await externalToken(freshSubject());
    const { id } = await me(token);
    await t.server.store.db
      .update(users)
      .set({ deactivatedAt: new Date() })
      .where(eq(users.id, id));
    const rest = await callApi(t.server, 'GET', '/api/v1/users/me', undefined, token);
    expect(rest.status).toBe(401);
    const framed = await connectWs(`${t.wsUrl}/ws`);
    sockets.push(framed);
    expect(await framed.request({ op: 'auth', token })).toMatchObject({
      success: false,
      code: 'unauthorized',
    });
    expect((await framed.closed).code).toBe(4001);
    const stream = await openSse(`${t.url}/api/v1/events/stream`, {
      authorization: `Bearer ${token}`,
    });
    expect(stream.status).toBe(401);
  });
});
