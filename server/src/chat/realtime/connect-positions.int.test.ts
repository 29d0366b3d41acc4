// A connection starts every channel of its user at the channel topic's head, read for all of
// them in one statement: each position equals the topic's seq row (0 for a channel without
// events), nothing before it is replayed, and the next event of each channel arrives live.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import { activityTopic, channelTopic, userChatTopic } from '../topics.js';
import { makeChannel, makeWorkspace, postMessage } from './test-fixtures.js';

describe(`chat connect positions (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob] = await makeChatUsers(t.server, ['alice', 'bob']);
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t?.stop();
  });

  async function topicHeads(topics: readonly string[]): Promise<Record<string, number>> {
    const rows = rowsOf<{ topic: string; last_seq: string }>(
      await t.server.store.db.execute(sql`select topic, last_seq::text as last_seq
        from core.topic_seqs where topic like 'chat.channel.%'`),
    );
    const found = new Map(rows.map((r) => [r.topic, Number(r.last_seq)]));
    return Object.fromEntries(topics.map((topic) => [topic, found.get(topic) ?? 0]));
  }

  it('starts each channel at its head, without replay, and delivers what comes next', async () => {
    const workspaceId = await makeWorkspace(t.server, alice.id, [bob.id]);
    const channelIds: string[] = [];
    // Channels with 0, 1, 2, … events, so a head given to the wrong topic shows.
    for (let i = 0; i < 5; i++) {
      const channelId = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
      for (let n = 0; n < i; n++) await postMessage(t.server, channelId, bob.id);
      channelIds.push(channelId);
    }
    const channelTopics = channelIds.map(channelTopic);
    const heads = await topicHeads(channelTopics);
    expect(Object.values(heads)).toEqual([0, 1, 2, 3, 4]);

    // Counted on the real source (the outbox), calling through, to show one batched head read.
    const durable = t.server.pipeline.durableTopics;
    const batched = vi.spyOn(durable, 'heads');
    const reads = vi.spyOn(durable, 'read');
    const socket = await connectWs(`${t.wsUrl}/ws?token=${alice.accessToken}`);
    sockets.push(socket);
    const connected = await socket.next((f) => f.op === 'connected');
    const positions = connected.positions as Record<string, number>;
    expect(Object.keys(positions).sort()).toEqual(
      [
        `user.${alice.id}`,
        'broadcast',
        userChatTopic(alice.id),
        ...channelTopics,
        ...channelIds.map(activityTopic),
      ].sort(),
    );
    for (const topic of channelTopics) expect(positions[topic], topic).toBe(heads[topic]);
    expect(batched.mock.calls).toEqual([
      [expect.arrayContaining([userChatTopic(alice.id), ...channelTopics])],
    ]);
    expect(reads.mock.calls.filter(([, after]) => after === Number.MAX_SAFE_INTEGER)).toEqual([]);
    batched.mockRestore();
    reads.mockRestore();

    const sent: Array<{ id: string; seq: number }> = [];
    for (const channelId of channelIds) sent.push(await postMessage(t.server, channelId, bob.id));
    for (const [i, topic] of channelTopics.entries()) {
      await socket.next((f) => f.topic === topic && f.seq === sent[i]!.seq);
    }
    for (const [i, topic] of channelTopics.entries()) {
      expect(socket.events(topic).map((f) => f.seq)).toEqual([heads[topic]! + 1]);
      expect(sent[i]!.seq).toBe(heads[topic]! + 1);
    }
  }, 60_000);
});
