// Read state over HTTP and the `read` op: markers only move forward (unless marking unread),
// never past the newest message, mention counts recomputed so they never stick; other devices
// follow through `read.updated`, DMs and small channels share read receipts.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { sendMessage } from '../messages/index.js';
import { makeChannel, makeWorkspace, postMessage } from '../realtime/test-fixtures.js';
import { callApi, makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import { channels } from '../schema.js';
import { channelTopic, userChatTopic } from '../topics.js';

describe(`chat read state (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let carol: ChatTestUser;
  let dave: ChatTestUser;
  let workspaceId: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob, carol, dave] = await makeChatUsers(t.server, ['alice', 'bob', 'carol', 'dave']);
    workspaceId = await makeWorkspace(t.server, alice.id, [bob.id, carol.id]);
    await makeWorkspace(t.server, dave.id);
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t?.stop();
  });

  async function connect(user: ChatTestUser): Promise<TestSocket> {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${user.accessToken}`);
    sockets.push(socket);
    await socket.next((f) => f.op === 'connected');
    return socket;
  }

  it('never leaves unread or mention counts stuck: one device reads, the other follows', async () => {
    const channel = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    const deviceA = await connect(bob);
    const deviceB = await connect(bob);
    // Through the messages command, mentions parsed from the body as a real send does.
    const send = async (body: string) =>
      (await sendMessage(t.server.chat.context, alice.id, { channelId: channel, body })).message;
    const first = await send('no mention');
    await send(`@${bob.username} one`);
    const last = await send(`and @${bob.username} two`);
    const before = await bob.call('GET', `/api/v1/channels/${channel}/read`);
    expect(before.body).toMatchObject({
      lastReadSeq: 0,
      mentionCount: 2,
      unreadCount: 3,
      unread: true,
    });

    const partial = await bob.call('PUT', `/api/v1/channels/${channel}/read`, {
      seq: first.seq + 1,
    });
    expect(partial.body).toEqual({
      channelId: channel,
      lastReadSeq: first.seq + 1,
      mentionCount: 1,
    });

    const read = await deviceA.request({ op: 'read', conversation_id: channel, seq: last.seq });
    expect(read).toMatchObject({
      op: 'read',
      success: true,
      conversation_id: channel,
      lastReadSeq: last.seq,
      mentionCount: 0,
    });
    const followed = await deviceB.next(
      (f) => f.type === 'read.updated' && f.lastReadSeq === last.seq,
    );
    expect(followed).toMatchObject({
      topic: userChatTopic(bob.id),
      channelId: channel,
      mentionCount: 0,
    });
    expect((await bob.call('GET', `/api/v1/channels/${channel}/read`)).body).toMatchObject({
      lastReadSeq: last.seq,
      mentionCount: 0,
      unreadCount: 0,
      unread: false,
    });
    const list = await bob.call('GET', `/api/v1/workspaces/${workspaceId}/channels`);
    expect(list.body.items.find((c: { id: string }) => c.id === channel)).toMatchObject({
      unread: false,
      mentionCount: 0,
      lastReadSeq: last.seq,
    });
  });

  it('moves forward only, clamps to the newest message, and marks unread from a message', async () => {
    const channel = await makeChannel(t.server, workspaceId, 'dm', [alice.id, bob.id]);
    const watcher = await connect(alice);
    const one = await postMessage(t.server, channel, alice.id, { mentionUserIds: [bob.id] });
    const two = await postMessage(t.server, channel, alice.id);
    const put = (body: unknown) => bob.call('PUT', `/api/v1/channels/${channel}/read`, body);

    expect((await put({ seq: two.seq + 100 })).body).toMatchObject({
      lastReadSeq: two.seq,
      mentionCount: 0,
    });
    const receipt = await watcher.next((f) => f.type === 'read' && f.userId === bob.id);
    expect(receipt).toMatchObject({
      topic: channelTopic(channel),
      channelId: channel,
      lastReadSeq: two.seq,
    });
    expect((await put({ seq: one.seq })).body).toMatchObject({ lastReadSeq: two.seq });
    expect((await put({ seq: one.seq, unread: true })).body).toMatchObject({
      lastReadSeq: one.seq - 1,
      mentionCount: 1,
    });
    expect((await bob.call('GET', `/api/v1/channels/${channel}/read`)).body).toMatchObject({
      unreadCount: 2,
      unread: true,
    });
    expect((await put({ seq: -1 })).status).toBe(400);
    expect((await put({})).status).toBe(400);

    const receipts = await alice.call('GET', `/api/v1/channels/${channel}/read-receipts`);
    expect(receipts.status).toBe(200);
    expect(receipts.body.nextCursor).toBeNull();
    expect(receipts.body.items).toEqual(
      expect.arrayContaining([
        { userId: bob.id, lastReadSeq: one.seq - 1 },
        { userId: alice.id, lastReadSeq: two.seq },
      ]),
    );
  });

  it('keeps markers monotonic and consistent while sends and reads race', async () => {
    const channel = await makeChannel(t.server, workspaceId, 'group_dm', [
      alice.id,
      bob.id,
      carol.id,
    ]);
    const ctx = t.server.chat.context;
    const sends = Array.from({ length: 6 }, (_, i) =>
      sendMessage(ctx, alice.id, { channelId: channel, body: `@${bob.username} ${i}` }),
    );
    const reads = Array.from({ length: 6 }, (_, i) =>
      bob.call('PUT', `/api/v1/channels/${channel}/read`, { seq: (i + 1) * 2 }),
    );
    const [sent, answered] = await Promise.all([Promise.all(sends), Promise.all(reads)]);
    expect(answered.map((r) => r.status)).toEqual(answered.map(() => 200));
    const newest = Math.max(...sent.map((s) => s.message.seq));
    await bob.call('PUT', `/api/v1/channels/${channel}/read`, { seq: newest });
    expect((await bob.call('GET', `/api/v1/channels/${channel}/read`)).body).toMatchObject({
      lastReadSeq: newest,
      mentionCount: 0,
      unreadCount: 0,
    });
  });

  it('shares no read receipts in large channels', async () => {
    const channel = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    await t.server.store.db
      .update(channels)
      .set({ memberCount: 51 })
      .where(eq(channels.id, channel));
    const watcher = await connect(alice);
    const { seq } = await postMessage(t.server, channel, alice.id);
    expect((await bob.call('PUT', `/api/v1/channels/${channel}/read`, { seq })).status).toBe(200);
    const sentinel = await postMessage(t.server, channel, bob.id);
    await watcher.next((f) => f.seq === sentinel.seq && f.topic === channelTopic(channel));
    expect(watcher.events(channelTopic(channel)).some((f) => f.type === 'read')).toBe(false);
    const receipts = await alice.call('GET', `/api/v1/channels/${channel}/read-receipts`);
    expect(receipts.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('keeps thread markers apart from the channel marker', async () => {
    const channel = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    const root = await postMessage(t.server, channel, bob.id);
    await postMessage(t.server, channel, alice.id, {
      threadRootId: root.id,
      mentionUserIds: [bob.id],
    });
    const reply = await postMessage(t.server, channel, alice.id, { threadRootId: root.id });
    const device = await connect(bob);
    const read = await bob.call('PUT', `/api/v1/messages/${root.id}/thread/read`, {
      seq: reply.seq - 1,
    });
    expect(read.body).toEqual({
      channelId: channel,
      threadRootId: root.id,
      lastReadSeq: reply.seq - 1,
      mentionCount: 0,
    });
    const all = await bob.call('PUT', `/api/v1/messages/${reply.id}/thread/read`);
    expect(all.body).toMatchObject({ threadRootId: root.id, lastReadSeq: reply.seq });
    await device.next(
      (f) => f.type === 'read.updated' && f.threadRootId === root.id && f.lastReadSeq === reply.seq,
    );
    expect((await bob.call('GET', `/api/v1/channels/${channel}/read`)).body).toMatchObject({
      lastReadSeq: root.seq,
    });
    expect((await carol.call('PUT', `/api/v1/messages/${root.id}/thread/read`)).status).toBe(200);
    expect((await dave.call('PUT', `/api/v1/messages/${root.id}/thread/read`)).status).toBe(404);
  });

  it('checks who may read and mark: members, readers, admins, other workspaces, strangers', async () => {
    const open = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    const closed = await makeChannel(t.server, workspaceId, 'private', [bob.id]);
    const { seq } = await postMessage(t.server, open, bob.id);
    const cases: Array<[string, ChatTestUser | undefined, string, number, number]> = [
      // who, user, channel, PUT read, GET receipts
      ['member', bob, open, 200, 200],
      ['workspace member, not in the channel', carol, open, 403, 200],
      ['workspace owner, not in a private channel', alice, closed, 404, 404],
      ['other workspace', dave, open, 404, 404],
      ['unauthenticated', undefined, open, 401, 401],
    ];
    for (const [who, user, channel, putStatus, receiptsStatus] of cases) {
      const call = (method: string, path: string, body?: unknown) =>
        user ? user.call(method, path, body) : callApi(t.server, method, path, body);
      expect((await call('PUT', `/api/v1/channels/${channel}/read`, { seq })).status, who).toBe(
        putStatus,
      );
      expect((await call('GET', `/api/v1/channels/${channel}/read-receipts`)).status, who).toBe(
        receiptsStatus,
      );
    }
    const socket = await connect(carol);
    expect(await socket.request({ op: 'read', conversation_id: closed, seq })).toMatchObject({
      op: 'error',
      code: 'not_found',
    });
    expect(await socket.request({ op: 'read', conversation_id: open })).toMatchObject({
      op: 'error',
      code: 'invalid_frame',
    });
  });
});
