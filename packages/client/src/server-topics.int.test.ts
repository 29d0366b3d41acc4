// The client and the topics the server subscribes on its own, against a real server with chat:
// the auth reply and `connected` frame (typed, with positions), `subscribed` / `unsubscribed`
// when a channel is joined or left, and resume after a reconnect that covers those topics too,
// over WebSocket (auth frame and ?token=) and SSE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  joinChannel,
  leaveChannel,
  makeChannel,
  makeWorkspace,
  postMessage,
} from '../../../server/src/chat/realtime/test-fixtures.js';
import { makeChatUsers, type ChatTestUser } from '../../../server/src/chat/test-support/api.js';
import { activityTopic, channelTopic, userChatTopic } from '../../../server/src/chat/topics.js';
import { waitFor } from '../../../server/src/test-support/processes.js';
import { startTestServer, type TestServer } from '../../../server/src/test-support/server.js';
import { target } from '../../../server/src/test-support/services.js';
import type { ClientEvent, ConnectedInfo, StateChange, SwitchboardClient } from './index.js';
import { createClient } from './index.js';
import { createNodeClient } from './node.js';

const fast = { initialDelayMs: 5, maxDelayMs: 50 };
const until = (what: string, condition: () => boolean, timeoutMs = 15_000) =>
  waitFor(what, () => Promise.resolve(condition() ? true : undefined), {
    timeoutMs,
    intervalMs: 5,
  });

/** A token source that can be held shut, so a reconnect waits while the test acts. */
function gatedToken(token: string) {
  let open = true;
  let release: (() => void) | undefined;
  let asked = 0;
  return {
    getToken: async () => {
      asked += 1;
      if (!open) await new Promise<void>((resolve) => (release = resolve));
      return token;
    },
    asked: () => asked,
    hold: () => {
      open = false;
    },
    release: () => {
      open = true;
      release?.();
    },
  };
}

const bodyOf = (event: ClientEvent) => (event.message as { body?: string } | undefined)?.body;

describe(`client SDK and server-side subscriptions (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let workspaceId: string;
  let general: string;
  const clients: SwitchboardClient[] = [];
  const track = (client: SwitchboardClient) => {
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob] = await makeChatUsers(t.server, ['alice', 'bob']);
    workspaceId = await makeWorkspace(t.server, alice.id, [bob.id]);
    general = await makeChannel(t.server, workspaceId, 'public', [alice.id, bob.id]);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await t?.stop();
  });

  /** Follows a client: its connected infos, server subscription changes, chat messages. */
  function observe(client: SwitchboardClient) {
    const seen = {
      connected: [] as ConnectedInfo[],
      changes: [] as string[],
      messages: [] as ClientEvent[],
      states: [] as StateChange[],
    };
    client.onConnected((info) => seen.connected.push(info));
    client.onSubscribed((positions) =>
      seen.changes.push(`+${Object.keys(positions).sort().join(',')}`),
    );
    client.onUnsubscribed((topics) => seen.changes.push(`-${[...topics].sort().join(',')}`));
    client.on('message.created', (event) => seen.messages.push(event));
    client.on('channel.joined', () => seen.changes.push('channel.joined'));
    client.on('channel.left', () => seen.changes.push('channel.left'));
    client.onState((change) => seen.states.push(change));
    return seen;
  }

  /** Drops every connection, posts while the client cannot reconnect, then lets it back. */
  async function postWhileAway(
    client: SwitchboardClient,
    gate: ReturnType<typeof gatedToken>,
    channelId: string,
    bodies: readonly string[],
  ): Promise<number[]> {
    gate.hold();
    const asked = gate.asked();
    t.server.realtime.hub.closeAll();
    await until('a reconnect waiting for its token', () => gate.asked() > asked);
    expect(client.state).not.toBe('open');
    const seqs: number[] = [];
    for (const body of bodies)
      seqs.push((await postMessage(t.server, channelId, alice.id, { body })).seq);
    gate.release();
    return seqs;
  }

  for (const [name, authIn] of [
    ['auth frame', 'frame'],
    ['?token=', 'query'],
  ] as const) {
    it(`[ws ${name}] surfaces connected and server subscriptions, and resumes them after a reconnect`, async () => {
      const secret = await makeChannel(t.server, workspaceId, 'private', [alice.id]);
      const gate = gatedToken(bob.accessToken);
      const client = track(
        createNodeClient({ url: t.url, getToken: gate.getToken, authIn, reconnect: fast }),
      );
      const seen = observe(client);
      await client.connect();
      expect(seen.connected).toHaveLength(1);
      const [first] = seen.connected;
      expect(first).toMatchObject({ userId: bob.id, transport: 'ws' });
      expect(Object.keys(first!.positions)).toEqual(
        expect.arrayContaining([
          `user.${bob.id}`,
          'broadcast',
          userChatTopic(bob.id),
          channelTopic(general),
          activityTopic(general),
        ]),
      );
      expect(client.serverTopics().sort()).toEqual(Object.keys(first!.positions).sort());
      expect(seen.states.at(-1)).toEqual({ state: 'open', userId: bob.id });

      await joinChannel(t.server, secret, bob.id, workspaceId);
      await until('the join', () => seen.changes.includes('channel.joined'));
      expect(seen.changes).toEqual([
        `+${[activityTopic(secret), channelTopic(secret)].join(',')}`,
        'channel.joined',
      ]);
      expect(client.serverTopics()).toContain(channelTopic(secret));
      const welcome = await postMessage(t.server, secret, alice.id, { body: 'welcome' });
      await until('the welcome', () => seen.messages.some((e) => bodyOf(e) === 'welcome'));
      expect(client.positions()[channelTopic(secret)]).toBe(welcome.seq);

      // Resume covers the channel the server subscribed this client to, exactly once, in order.
      const missed = await postWhileAway(client, gate, secret, ['away 1', 'away 2']);
      await until('a second connection', () => seen.connected.length === 2);
      await postMessage(t.server, secret, alice.id, { body: 'live' });
      await until('the live one', () => seen.messages.some((e) => bodyOf(e) === 'live'));
      const inSecret = seen.messages.filter((e) => e.topic === channelTopic(secret));
      expect(inSecret.map(bodyOf)).toEqual(['welcome', 'away 1', 'away 2', 'live']);
      expect(inSecret.slice(1, 3).map((e) => e.seq)).toEqual(missed);

      await leaveChannel(t.server, secret, bob.id, workspaceId);
      await until('the leave', () => seen.changes.includes('channel.left'));
      expect(seen.changes.slice(-2)).toEqual([
        `-${[activityTopic(secret), channelTopic(secret)].join(',')}`,
        'channel.left',
      ]);
      expect(client.serverTopics()).not.toContain(channelTopic(secret));
      expect(client.positions()).not.toHaveProperty(channelTopic(secret));
      client.close();
    });
  }

  it('[ws] forgets a server topic dropped while away, without an error', async () => {
    const room = await makeChannel(t.server, workspaceId, 'private', [alice.id, bob.id]);
    const gate = gatedToken(bob.accessToken);
    const client = track(
      createNodeClient({ url: t.url, getToken: gate.getToken, reconnect: fast }),
    );
    const errors: Error[] = [];
    client.onError((error) => errors.push(error));
    const seen = observe(client);
    await client.connect();
    expect(client.serverTopics()).toContain(channelTopic(room));

    gate.hold();
    const asked = gate.asked();
    t.server.realtime.hub.closeAll();
    await until('a reconnect waiting for its token', () => gate.asked() > asked);
    await leaveChannel(t.server, room, bob.id, workspaceId);
    gate.release();
    await until('a second connection', () => seen.connected.length === 2);
    expect(client.serverTopics()).not.toContain(channelTopic(room));
    expect(client.positions()).not.toHaveProperty(channelTopic(room));
    // The replayed channel.left finds the topic gone already.
    await until('the replayed leave', () => seen.changes.includes('channel.left'));
    expect(errors).toEqual([]);
    client.close();
  });

  it('[sse] surfaces connected and server subscriptions, and resumes them with Last-Event-ID', async () => {
    const secret = await makeChannel(t.server, workspaceId, 'private', [alice.id]);
    const gate = gatedToken(bob.accessToken);
    const sent: string[] = [];
    const client = track(
      createClient({
        url: t.url,
        transport: 'sse',
        getToken: gate.getToken,
        fetch: (url, init) => {
          sent.push(init.headers['last-event-id'] ?? '');
          return fetch(url, init);
        },
        reconnect: fast,
      }),
    );
    const seen = observe(client);
    await client.connect();
    expect(seen.connected[0]).toMatchObject({ userId: bob.id, transport: 'sse' });
    expect(client.serverTopics()).toEqual(
      expect.arrayContaining([userChatTopic(bob.id), channelTopic(general)]),
    );

    await joinChannel(t.server, secret, bob.id, workspaceId);
    await until('the join', () => seen.changes.includes('channel.joined'));
    expect(seen.changes[0]).toBe(`+${[activityTopic(secret), channelTopic(secret)].join(',')}`);
    await postMessage(t.server, secret, alice.id, { body: 'welcome' });
    await until('the welcome', () => seen.messages.some((e) => bodyOf(e) === 'welcome'));

    await postWhileAway(client, gate, secret, ['away 1', 'away 2']);
    await until('a second stream', () => seen.connected.length === 2);
    await postMessage(t.server, secret, alice.id, { body: 'live' });
    await until('the live one', () => seen.messages.some((e) => bodyOf(e) === 'live'));
    expect(seen.messages.filter((e) => e.topic === channelTopic(secret)).map(bodyOf)).toEqual([
      'welcome',
      'away 1',
      'away 2',
      'live',
    ]);
    // The stream named no topics itself: the server subscribed every one of them.
    expect(sent.at(-1)).toContain(`${channelTopic(secret)}=`);
    client.close();
  });
});
