// Chat over Server-Sent Events: a stream gets the same chat topics a WebSocket gets at
// authentication, resumes all of them from the Last-Event-ID cursor, and follows channels joined
// and left while it is open.
import { decodeCursor } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { openSse, type SseRecord, type TestStream } from '../../test-support/sse-client.js';
import { makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import { activityTopic, channelTopic, userChatTopic } from '../topics.js';
import {
  joinChannel,
  leaveChannel,
  makeChannel,
  makeWorkspace,
  postMessage,
} from './test-fixtures.js';

const bodyOf = (r: SseRecord) => (r.data.message as { body?: string } | undefined)?.body;

describe(`chat over SSE (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let workspaceId: string;
  let general: string;
  let secret: string;
  const streams: TestStream[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob] = await makeChatUsers(t.server, ['alice', 'bob']);
    workspaceId = await makeWorkspace(t.server, alice.id, [bob.id]);
    general = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
    secret = await makeChannel(t.server, workspaceId, 'private', [alice.id]);
  }, 60_000);
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await t?.stop();
  });

  async function open(user: ChatTestUser, lastEventId?: string) {
    const stream = await openSse(`${t.url}/api/v1/events/stream`, {
      authorization: `Bearer ${user.accessToken}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    });
    streams.push(stream);
    expect(stream.status).toBe(200);
    const connected = await stream.next((r) => r.event === 'connected');
    return { stream, connected };
  }

  it('subscribes a stream to its chat topic and channels, as a WebSocket is', async () => {
    const { stream, connected } = await open(bob);
    const expected = [
      `user.${bob.id}`,
      'broadcast',
      userChatTopic(bob.id),
      channelTopic(general),
      activityTopic(general),
    ];
    expect(Object.keys(connected.data.positions as object).sort()).toEqual(expected.sort());
    expect((connected.data.topics as string[]).sort()).toEqual(expected.sort());
    expect([...decodeCursor(connected.id!)!.keys()].sort()).toEqual(expected.sort());

    const { seq } = await postMessage(t.server, general, alice.id, { body: 'over sse' });
    const event = await stream.next((r) => bodyOf(r) === 'over sse');
    expect(event).toMatchObject({
      event: 'message.created',
      data: { op: 'event', topic: channelTopic(general), seq, conversation_id: general },
    });
    expect(decodeCursor(event.id!)!.get(channelTopic(general))).toBe(seq);
  });

  it('resumes every chat topic from Last-Event-ID, exactly once and in order', async () => {
    const first = await open(bob);
    await postMessage(t.server, general, alice.id, { body: 'seen' });
    const seen = await first.stream.next((r) => bodyOf(r) === 'seen');
    first.stream.close();
    await first.stream.ended;

    const missed = [];
    for (let i = 0; i < 3; i++) {
      missed.push((await postMessage(t.server, general, alice.id, { body: `missed ${i}` })).seq);
    }
    const { stream } = await open(bob, seen.id);
    await postMessage(t.server, general, alice.id, { body: 'live' });
    await stream.next((r) => bodyOf(r) === 'live');
    const seqs = stream.records
      .filter((r) => r.data.topic === channelTopic(general))
      .map((r) => r.data.seq);
    expect(seqs.slice(0, 3)).toEqual(missed);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).not.toContain(seen.data.seq);
    // The replay comes before the stream says it is connected.
    const connectedAt = stream.records.findIndex((r) => r.event === 'connected');
    const firstMissed = stream.records.findIndex((r) => bodyOf(r) === 'missed 0');
    expect(firstMissed).toBeLessThan(connectedAt);
  });

  it('follows channels joined and left while open, and resumes a joined channel after a reconnect', async () => {
    const { stream } = await open(bob);
    await joinChannel(t.server, secret, bob.id, workspaceId);
    const joined = await stream.next((r) => r.event === 'channel.joined');
    const subscribed = stream.records.find((r) => r.event === 'subscribed')!;
    expect(stream.records.indexOf(subscribed)).toBeLessThan(stream.records.indexOf(joined));
    expect(Object.keys(subscribed.data.positions as object).sort()).toEqual(
      [channelTopic(secret), activityTopic(secret)].sort(),
    );
    // The cursor moves with the topics, so a reconnect right after it resumes the new channel.
    expect(decodeCursor(subscribed.id!)!.has(channelTopic(secret))).toBe(true);
    await postMessage(t.server, secret, alice.id, { body: 'welcome' });
    const welcome = await stream.next((r) => bodyOf(r) === 'welcome');
    stream.close();
    await stream.ended;

    await postMessage(t.server, secret, alice.id, { body: 'while away' });
    const again = await open(bob, welcome.id);
    expect(
      again.stream.records.filter((r) => r.data.topic === channelTopic(secret)).map(bodyOf),
    ).toEqual(['while away']);

    await leaveChannel(t.server, secret, bob.id, workspaceId);
    const left = await again.stream.next((r) => r.event === 'channel.left');
    const unsubscribed = again.stream.records.find((r) => r.event === 'unsubscribed')!;
    expect(again.stream.records.indexOf(unsubscribed)).toBeLessThan(
      again.stream.records.indexOf(left),
    );
    expect(unsubscribed.data.topics).toEqual(
      expect.arrayContaining([channelTopic(secret), activityTopic(secret)]),
    );
    expect(decodeCursor(unsubscribed.id!)!.has(channelTopic(secret))).toBe(false);
    await postMessage(t.server, secret, alice.id, { body: 'after bob left' });
    await postMessage(t.server, general, alice.id, { body: 'sentinel' });
    await again.stream.next((r) => bodyOf(r) === 'sentinel');
    expect(again.stream.records.some((r) => bodyOf(r) === 'after bob left')).toBe(false);
  });

  it('refuses requested topics the user may not read, and a malformed cursor', async () => {
    const forbidden = await openSse(
      `${t.url}/api/v1/events/stream?topics=${channelTopic(secret)}`,
      { authorization: `Bearer ${bob.accessToken}` },
    );
    expect(forbidden.status).toBe(403);
    const malformed = await openSse(`${t.url}/api/v1/events/stream`, {
      authorization: `Bearer ${bob.accessToken}`,
      'last-event-id': 'not a cursor',
    });
    expect(malformed.status).toBe(400);
  });
});
