// How thread replies count in the channel list: a plain reply never makes the channel unread; a
// reply that names you counts as a mention of the channel until you read that thread (reading
// the channel does not read its threads); @channel and @here in a reply notify nobody; posting in
// the channel reads it; a deleted message stops counting at once. The stored counts, the
// recomputed ones and the list agree at every step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { sendMessage } from '../messages/index.js';
import { makeChannel, makeWorkspace } from '../realtime/test-fixtures.js';
import { makeChatUsers, type ChatTestUser } from '../test-support/api.js';

describe(`chat thread replies in the channel list (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let carol: ChatTestUser;
  let workspaceId: string;
  let channelId: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob, carol] = await makeChatUsers(t.server, ['alice', 'bob', 'carol']);
    workspaceId = await makeWorkspace(t.server, alice.id, [bob.id, carol.id]);
    channelId = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id, carol.id]);
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t?.stop();
  });

  const send = async (user: ChatTestUser, body: string, threadRootId?: string) =>
    (
      await sendMessage(t.server.chat.context, user.id, {
        channelId,
        body,
        ...(threadRootId ? { threadRootId } : {}),
      })
    ).message;

  /** The channel as the user's channel list shows it, and the read endpoint agrees with it. */
  async function listed(user: ChatTestUser): Promise<{ unread: boolean; mentionCount: number }> {
    const list = await user.call('GET', `/api/v1/workspaces/${workspaceId}/channels?member=true`);
    const item = (list.body.items as Array<Record<string, unknown>>).find(
      (c) => c.id === channelId,
    );
    const read = await user.call('GET', `/api/v1/channels/${channelId}/read`);
    expect(read.body.mentionCount).toBe(item?.mentionCount);
    return { unread: item?.unread as boolean, mentionCount: item?.mentionCount as number };
  }

  /** Another device of the user: a WebSocket that gets their `read.updated` events. */
  async function deviceOf(user: ChatTestUser): Promise<TestSocket> {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${user.accessToken}`);
    sockets.push(socket);
    await socket.next((f) => f.op === 'connected');
    return socket;
  }

  /** Waits for the channel's own `read.updated` (not a thread's) on one of the user's devices. */
  const channelReadUpdated = (
    device: TestSocket,
    expected: { mentionCount: number; lastReadSeq?: number },
  ) =>
    device.next(
      (f) =>
        f.type === 'read.updated' &&
        f.channelId === channelId &&
        f.threadRootId === undefined &&
        f.mentionCount === expected.mentionCount &&
        (expected.lastReadSeq === undefined || f.lastReadSeq === expected.lastReadSeq),
    );

  const readChannel = async (user: ChatTestUser, seq: number) => {
    const read = await user.call('PUT', `/api/v1/channels/${channelId}/read`, { seq });
    expect(read.status).toBe(200);
    return read.body as { mentionCount: number };
  };

  it('counts a reply that names you as a mention until the thread is read; plain replies leave the channel read', async () => {
    const root = await send(bob, 'a question');
    await readChannel(carol, root.seq);
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
    expect(await listed(carol)).toEqual({ unread: false, mentionCount: 0 });

    const plain = await send(alice, 'a plain reply', root.id);
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
    expect(await listed(carol)).toEqual({ unread: false, mentionCount: 0 });

    const naming = await send(alice, `@${bob.username} have a look`, root.id);
    const everyone = await send(alice, '@channel and @here, in a thread', root.id);
    expect(everyone.mentions).toMatchObject({ channel: true, here: true });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 1 });
    expect(await listed(carol)).toEqual({ unread: false, mentionCount: 0 });

    // Reading the channel, even past the replies' seqs, does not read the thread.
    expect(await readChannel(bob, everyone.seq)).toMatchObject({ mentionCount: 1 });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 1 });

    // Reading the thread does, on every device.
    const otherDevice = await deviceOf(bob);
    const partly = await bob.call('PUT', `/api/v1/messages/${root.id}/thread/read`, {
      seq: plain.seq,
    });
    expect(partly.body).toMatchObject({ lastReadSeq: plain.seq, mentionCount: 1 });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 1 });
    const thread = await bob.call('PUT', `/api/v1/messages/${root.id}/thread/read`);
    expect(thread.body).toMatchObject({ lastReadSeq: everyone.seq, mentionCount: 0 });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
    await channelReadUpdated(otherDevice, { mentionCount: 0 });
    expect(naming.seq).toBeLessThan(everyone.seq);

    // A root message that names you is a channel mention, read with the channel.
    const rootMention = await send(alice, `@${bob.username} and @${carol.username}, new topic`);
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 1 });
    expect(await listed(carol)).toEqual({ unread: true, mentionCount: 1 });
    expect(await readChannel(bob, rootMention.seq)).toMatchObject({ mentionCount: 0 });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
  }, 60_000);

  it('keeps a thread mention when the channel is marked unread, and drops it when the reply is deleted', async () => {
    const root = await send(carol, 'another thread');
    const reply = await send(alice, `@${bob.username} over here`, root.id);
    expect(await listed(bob)).toMatchObject({ mentionCount: 1 });
    const unread = await bob.call('PUT', `/api/v1/channels/${channelId}/read`, {
      seq: root.seq,
      unread: true,
    });
    expect(unread.body).toMatchObject({ lastReadSeq: root.seq - 1, mentionCount: 1 });
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 1 });
    const otherDevice = await deviceOf(bob);
    const deleted = await alice.call('DELETE', `/api/v1/messages/${reply.id}`);
    expect(deleted.status).toBe(204);
    // At once, not at the next read: the channel's count and the thread's.
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 0 });
    await channelReadUpdated(otherDevice, { mentionCount: 0 });
    await otherDevice.next(
      (f) => f.type === 'read.updated' && f.threadRootId === root.id && f.mentionCount === 0,
    );
    expect(await readChannel(bob, root.seq)).toMatchObject({ mentionCount: 0 });
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
  }, 60_000);

  it('takes a deleted root message out of the counts at once: no mention, and not unread when it was the newest', async () => {
    const before = await send(carol, 'before the mention');
    await readChannel(bob, before.seq);
    await readChannel(carol, before.seq);
    const naming = await send(alice, `@${bob.username} look at this`);
    const everyone = await send(alice, '@channel one more thing');
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 2 });
    expect(await listed(carol)).toEqual({ unread: true, mentionCount: 1 });

    const otherDevice = await deviceOf(carol);
    expect((await alice.call('DELETE', `/api/v1/messages/${everyone.id}`)).status).toBe(204);
    // The one naming Bob is still unread, for Carol too, but it does not mention her.
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 1 });
    expect(await listed(carol)).toEqual({ unread: true, mentionCount: 0 });
    await otherDevice.next(
      (f) => f.type === 'read.updated' && f.channelId === channelId && f.mentionCount === 0,
    );
    // The channel's subscribers learn its newest message moved back.
    await otherDevice.next(
      (f) =>
        f.type === 'message.deleted' &&
        (f.message as { id: string }).id === everyone.id &&
        f.lastMessageSeq === naming.seq,
    );

    expect((await alice.call('DELETE', `/api/v1/messages/${naming.id}`)).status).toBe(204);
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
    expect(await listed(carol)).toEqual({ unread: false, mentionCount: 0 });
    // Deleting something already read changes nobody's counts.
    expect((await carol.call('DELETE', `/api/v1/messages/${before.id}`)).status).toBe(204);
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
  }, 60_000);

  it('recounts a deleted message whose edit changed whom it names', async () => {
    const before = await send(carol, 'before the draft');
    await readChannel(bob, before.seq);
    await readChannel(carol, before.seq);
    const draft = await send(alice, `@${bob.username} first draft`);
    const edited = await alice.call('PATCH', `/api/v1/messages/${draft.id}`, {
      body: `@${carol.username} second draft`,
    });
    expect(edited.status).toBe(200);
    // An edit is not a new notification: the counts stay as the post left them.
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 1 });
    expect(await listed(carol)).toEqual({ unread: true, mentionCount: 0 });
    expect((await alice.call('DELETE', `/api/v1/messages/${draft.id}`)).status).toBe(204);
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
    expect(await listed(carol)).toEqual({ unread: false, mentionCount: 0 });
  }, 60_000);

  it('clears the mentions before a message you post, but not those in threads you have not read', async () => {
    const root = await send(carol, 'a third thread');
    await send(alice, `@${bob.username} in the thread`, root.id);
    await send(alice, `@${bob.username} in the channel`);
    await send(alice, '@here anyone?');
    expect(await listed(bob)).toEqual({ unread: true, mentionCount: 3 });
    const otherDevice = await deviceOf(bob);
    const posted = await send(bob, 'here, reading along');
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 1 });
    // Bob's other devices learn that posting read the channel's mentions.
    await channelReadUpdated(otherDevice, { mentionCount: 1, lastReadSeq: posted.seq });
    await bob.call('PUT', `/api/v1/messages/${root.id}/thread/read`);
    await send(bob, 'all caught up');
    expect(await listed(bob)).toEqual({ unread: false, mentionCount: 0 });
  }, 60_000);
});
