// A scripted team conversation on two `switchboard serve` nodes sharing one PostgreSQL database
// and a private Redis: three people who registered through the REST API, four devices (Bob has
// two) on WebSocket through the client SDK, spread over both nodes. They create a workspace and a
// channel, join it, send (WebSocket with temp_id, REST with Idempotency-Key), edit, react, reply
// in a thread, type and read. Carol's connection goes through a TCP proxy that cuts it while the
// others keep talking; she reconnects to the other node and resumes. At the end every device
// shows exactly the server's history, and every channel list (each user, each of Bob's devices)
// shows the unread state and mention counts the history implies.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  skipAfterFailure,
  type RunningProcess,
} from '../server/src/test-support/processes.js';
import {
  createTestDatabase,
  makeTempDir,
  testLogger,
} from '../server/src/test-support/services.js';
import {
  ChatDevice,
  showMessage,
  type ShownMessage,
  type WireMessage,
} from './support/chat-device.js';
import {
  clusterSkipReason,
  startNode,
  startPrivateRedis,
  type ClusterNode,
} from './support/cluster.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const skip = clusterSkipReason();
const STAGE_TIMEOUT_MS = 120_000;
const STREAM_LENGTH = 24;
const CUT_AFTER = 8;
/** Messages sent while Carol cannot reconnect. */
const MISSED = 6;

const channelTopic = (id: string) => `chat.channel.${id}`;
const activityTopic = (id: string) => `chat.activity.${id}`;
const userChatTopic = (id: string) => `chat.user.${id}`;

interface Person {
  name: string;
  id: string;
  username: string;
  token: string;
}

interface Answer {
  status: number;
  // Bodies are checked by value; a loose type keeps the reads short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function api(
  node: ClusterNode,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? null : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function expectStatus(answer: Answer, status: number, what: string): void {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
}

describe.skipIf(skip)(
  `chat conversation: three people, four devices, two nodes${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    skipAfterFailure();
    const cleanups: Array<() => unknown> = [];
    const nodes: ClusterNode[] = [];
    let proxy: TcpProxy;
    let carolRoute: string;
    const people = new Map<string, Person>();
    const devices: ChatDevice[] = [];
    let alice: ChatDevice;
    let bob1: ChatDevice;
    let bob2: ChatDevice;
    let carol: ChatDevice;
    let bobSecondToken: string;
    let workspaceId: string;
    let channelId: string;
    /** What each device had in the REST history when it started following the channel. */
    const baseOf = new Map<ChatDevice, WireMessage[]>();
    /** Thread markers moved by explicit thread reads: user → root → seq. */
    const threadReads = new Map<string, Map<string, number>>();
    const ids: Record<string, string> = {};

    const person = (name: string) => people.get(name)!;
    const [nodeA, nodeB] = [() => nodes[0]!, () => nodes[1]!];

    beforeAll(async () => {
      const dir = makeTempDir('sb-chat-e2e-');
      cleanups.push(() => dir.remove());
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      const redis = await startPrivateRedis(dir.path);
      cleanups.push(() => redis.kill());
      const jwtSecret = randomBytes(32).toString('hex');
      const ports = [await freePort(), await freePort()];
      const started = await Promise.all(
        ports.map((port, index) =>
          startNode({
            index,
            port,
            databaseUrl: database.url,
            redisUrl: redis.url,
            jwtSecret,
            workDir: dir.path,
          }),
        ),
      );
      nodes.push(...started);
      const processes: RunningProcess[] = started.map((n) => n.process);
      cleanups.push(() => Promise.all(processes.map((p) => p.kill())));
      proxy = await startTcpProxy({ targetPort: ports[0]! });
      cleanups.push(() => proxy.close());
      carolRoute = `ws://127.0.0.1:${proxy.port}`;
    }, STAGE_TIMEOUT_MS);

    afterAll(async () => {
      for (const device of devices) device.close();
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (err) {
          testLogger.warn({ err }, 'cleanup failed');
        }
      }
    });

    function device(name: string, token: string, route: () => string): ChatDevice {
      const made = new ChatDevice({ name, token, route });
      devices.push(made);
      return made;
    }

    /** Everyone's devices have seen the channel up to `seq`. */
    const allHave = (seq: number) =>
      Promise.all(devices.map((d) => d.hasSeq(channelTopic(channelId), seq)));

    it(
      'registers three people and connects four devices across both nodes',
      async () => {
        const run = randomBytes(3).toString('hex');
        for (const [name, node] of [
          ['alice', nodeA()],
          ['bob', nodeB()],
          ['carol', nodeA()],
        ] as const) {
          const username = `${name}_${run}`;
          const registered = await api(node, 'POST', '/api/v1/auth/register', {
            body: {
              email: `${username}@example.com`,
              username,
              password: 'correct horse battery',
              displayName: name,
            },
          });
          expectStatus(registered, 201, `registering ${name}`);
          people.set(name, {
            name,
            id: registered.body.user.id,
            username,
            token: registered.body.accessToken,
          });
        }
        const login = await api(nodeB(), 'POST', '/api/v1/auth/login', {
          body: { login: person('bob').username, password: 'correct horse battery' },
        });
        expectStatus(login, 200, 'bob signing in on his second device');
        bobSecondToken = login.body.accessToken;

        alice = device('alice', person('alice').token, () => nodeA().wsUrl);
        bob1 = device('bob-laptop', person('bob').token, () => nodeB().wsUrl);
        bob2 = device('bob-phone', bobSecondToken, () => nodeA().wsUrl);
        carol = device('carol', person('carol').token, () => carolRoute);
        await Promise.all(devices.map((d) => d.connect()));
        const owners = new Map([
          [alice, 'alice'],
          [bob1, 'bob'],
          [bob2, 'bob'],
          [carol, 'carol'],
        ]);
        for (const d of devices) {
          expect(d.client.serverTopics()).toContain(userChatTopic(person(owners.get(d)!).id));
        }
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      'creates a workspace and a channel that everyone joins',
      async () => {
        const created = await api(nodeA(), 'POST', '/api/v1/workspaces', {
          token: person('alice').token,
          body: { name: 'Launch crew' },
        });
        expectStatus(created, 201, 'creating the workspace');
        workspaceId = created.body.id;
        for (const [name, node] of [
          ['bob', nodeB()],
          ['carol', nodeA()],
        ] as const) {
          const invite = await api(nodeA(), 'POST', `/api/v1/workspaces/${workspaceId}/invites`, {
            token: person('alice').token,
            body: {},
          });
          expectStatus(invite, 201, 'inviting');
          const accepted = await api(node, 'POST', '/api/v1/invites/accept', {
            token: person(name).token,
            body: { code: invite.body.code },
          });
          expectStatus(accepted, 200, `${name} accepting the invite`);
        }
        const channel = await api(nodeB(), 'POST', `/api/v1/workspaces/${workspaceId}/channels`, {
          token: person('alice').token,
          body: { name: 'launch' },
        });
        expectStatus(channel, 201, 'creating #launch');
        channelId = channel.body.id;
        expectStatus(
          await api(nodeB(), 'POST', `/api/v1/channels/${channelId}/join`, {
            token: person('bob').token,
          }),
          200,
          'bob joining',
        );
        expectStatus(
          await api(nodeA(), 'POST', `/api/v1/channels/${channelId}/join`, {
            token: person('carol').token,
          }),
          200,
          'carol joining',
        );
        // Every device follows the channel without asking: the server subscribed it on the join.
        await Promise.all(devices.map((d) => d.subscribedTo(channelTopic(channelId))));
        await Promise.all(devices.map((d) => d.subscribedTo(activityTopic(channelId))));
        // The `join` op subscribes too (nothing changes for a device that follows it already).
        const joined = await carol.op('join', { conversation_id: channelId });
        expect(Object.keys(joined.positions as object)).toContain(channelTopic(channelId));

        for (const d of devices) {
          const token = d === bob2 ? bobSecondToken : d.options.token;
          const history = await api(
            nodeB(),
            'GET',
            `/api/v1/channels/${channelId}/messages?thread=all&limit=200`,
            { token },
          );
          expectStatus(history, 200, 'reading the history');
          baseOf.set(d, history.body.items as WireMessage[]);
        }
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      'talks: sends over WebSocket and REST (each once), an edit, reactions and a thread',
      async () => {
        const welcome = await alice.op('send', {
          conversation_id: channelId,
          body: 'Welcome to #launch! The checklist is in the thread.',
          temp_id: 'alice-1',
        });
        // A resend after a lost reply finds the first message.
        const again = await alice.op('send', {
          conversation_id: channelId,
          body: 'Welcome to #launch! The checklist is in the thread.',
          temp_id: 'alice-1',
        });
        expect(again).toMatchObject({ message_id: welcome.message_id, seq: welcome.seq });
        ids.welcome = welcome.message_id as string;

        const body = { body: `@${person('carol').username} can you check the build?` };
        const build = await api(nodeB(), 'POST', `/api/v1/channels/${channelId}/messages`, {
          token: person('bob').token,
          body,
          headers: { 'idempotency-key': 'bob-build-1' },
        });
        expectStatus(build, 201, 'bob asking');
        // The same request again, on the other node: the stored response, no second message.
        const replayed = await api(nodeA(), 'POST', `/api/v1/channels/${channelId}/messages`, {
          token: person('bob').token,
          body,
          headers: { 'idempotency-key': 'bob-build-1' },
        });
        expect(replayed.body.id).toBe(build.body.id);
        ids.build = build.body.id;

        const onIt = await carol.op('send', {
          conversation_id: channelId,
          body: { text: 'On it.' },
          temp_id: 'carol-1',
        });
        ids.onIt = onIt.message_id as string;

        expectStatus(
          await api(nodeA(), 'PATCH', `/api/v1/messages/${ids.build}`, {
            token: person('bob').token,
            body: { body: `@${person('carol').username} can you check the build? CI is red.` },
          }),
          200,
          'bob editing',
        );
        await alice.op('react', { message_id: ids.build, emoji: '👀' });
        await carol.op('react', { message_id: ids.build, emoji: '👀' });
        await bob1.op('react', { message_id: ids.welcome, emoji: ':tada:' });
        await alice.op('react', { message_id: ids.onIt, emoji: '✅' });
        await alice.op('react', { message_id: ids.onIt, emoji: '✅', remove: true });
        await bob2.op('react', { message_id: ids.onIt, emoji: '🙏' });

        const green = await carol.op('send', {
          conversation_id: channelId,
          body: `Build is green again @${person('bob').username}`,
          temp_id: 'carol-2',
          thread_root_id: ids.build,
        });
        ids.green = green.message_id as string;
        const thanks = await api(nodeB(), 'POST', `/api/v1/channels/${channelId}/messages`, {
          token: person('alice').token,
          body: { body: 'thanks!', threadRootId: ids.build },
          headers: { 'idempotency-key': 'alice-thanks' },
        });
        expectStatus(thanks, 201, 'alice replying in the thread');
        await allHave(thanks.body.seq);
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      'shows typing to the others on both nodes, and the indicator expires',
      async () => {
        const topic = activityTopic(channelId);
        await alice.op('typing', { conversation_id: channelId });
        const others = [bob1, bob2, carol];
        await Promise.all(
          others.map((d) =>
            d.until('alice typing', () => d.on(topic).some((e) => e.type === 'typing')),
          ),
        );
        for (const d of others) {
          const event = d.on(topic).find((e) => e.type === 'typing')!;
          expect(event).toMatchObject({ userId: person('alice').id, expiresInMs: 5000 });
          expect(event.seq).toBeUndefined();
          const arrived = d.arrivals.get(event)!;
          const expiresInMs = event.expiresInMs as number;
          expect(d.typingAt(topic, arrived)).toEqual([person('alice').id]);
          expect(d.typingAt(topic, arrived + expiresInMs - 1)).toEqual([person('alice').id]);
          expect(d.typingAt(topic, arrived + expiresInMs)).toEqual([]);
        }
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      'reads on one device of Bob, and his other device follows',
      async () => {
        const head = await api(
          nodeA(),
          'GET',
          `/api/v1/channels/${channelId}/messages?thread=all&limit=200`,
          {
            token: person('bob').token,
          },
        );
        const newest = Math.max(...(head.body.items as WireMessage[]).map((m) => m.seq));
        const read = await bob1.op('read', { conversation_id: channelId, seq: newest });
        // Carol's reply names him and he has not opened the thread: still a mention.
        expect(read).toMatchObject({ lastReadSeq: newest, mentionCount: 1 });
        await bob2.until(
          'the read marker from the laptop',
          () => bob2.readState(userChatTopic(person('bob').id), channelId)?.lastReadSeq === newest,
        );
        expect(bob2.readState(userChatTopic(person('bob').id), channelId)).toEqual({
          lastReadSeq: newest,
          mentionCount: 1,
        });
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      "cuts Carol's connection mid-stream; she reconnects to the other node and resumes",
      async () => {
        const topic = channelTopic(channelId);
        const viaProxy = carolRoute;
        let last = 0;
        let seenAtCut = 0;
        for (let i = 0; i < STREAM_LENGTH; i++) {
          if (i === CUT_AFTER) {
            await carol.hasSeq(topic, last);
            seenAtCut = last;
            // Her reconnects through the proxy are refused until she is sent to node B.
            proxy.cut();
          }
          if (i === CUT_AFTER + MISSED) carolRoute = nodeB().wsUrl;
          const text =
            i === 5
              ? `@${person('carol').username} status?`
              : i === 9
                ? `@${person('alice').username} see above`
                : `update ${i}`;
          if (i % 2 === 0) {
            const sent = await alice.op('send', {
              conversation_id: channelId,
              body: text,
              temp_id: `alice-stream-${i}`,
            });
            last = sent.seq as number;
          } else {
            const sent = await api(
              i % 4 === 1 ? nodeA() : nodeB(),
              'POST',
              `/api/v1/channels/${channelId}/messages`,
              {
                token: person('bob').token,
                body: { body: text },
                headers: { 'idempotency-key': `bob-stream-${i}` },
              },
            );
            expectStatus(sent, 201, `bob's update ${i}`);
            last = sent.body.seq;
            if (i === 11) ids.bobStream = sent.body.id;
          }
          if (i === 12) {
            await bob1.op('react', { message_id: ids.onIt, emoji: '🚀' });
            expectStatus(
              await api(nodeB(), 'PATCH', `/api/v1/messages/${ids.bobStream}`, {
                token: person('bob').token,
                body: { body: 'update 11 (corrected)' },
              }),
              200,
              'bob correcting himself',
            );
          }
        }
        const done = await alice.op('send', {
          conversation_id: channelId,
          body: "That's all for today.",
        });
        last = done.seq as number;
        await allHave(last);

        expect(carol.connections[0]).toBe(viaProxy);
        expect(carol.connections.at(-1)).toBe(nodeB().wsUrl);
        expect(carol.connections.filter((url) => url === nodeB().wsUrl)).toHaveLength(1);
        expect(carol.states.some((s) => s.state === 'reconnecting')).toBe(true);
        // She was away for MISSED messages at least, and has every event after her position.
        const resumed = carol.on(topic).filter((e) => e.seq! > seenAtCut);
        expect(resumed.length).toBeGreaterThanOrEqual(MISSED);
        expect(carol.resyncs).toEqual([]);
        // Typing is ephemeral: nothing on the activity topic has a seq to resume from.
        expect(carol.on(activityTopic(channelId)).every((e) => e.seq === undefined)).toBe(true);
        for (const d of devices) {
          const seqs = d.on(channelTopic(channelId)).map((e) => e.seq!);
          const first = seqs[0]!;
          expect(seqs, d.name).toEqual(Array.from({ length: seqs.length }, (_, k) => first + k));
          expect(seqs.at(-1), d.name).toBe(last);
        }
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      "shows on every device exactly the server's history",
      async () => {
        const history = await api(
          nodeA(),
          'GET',
          `/api/v1/channels/${channelId}/messages?thread=all&limit=200`,
          {
            token: person('carol').token,
          },
        );
        expectStatus(history, 200, 'reading the history');
        const server = (history.body.items as WireMessage[]).map(showMessage);
        const sorted = (shown: Iterable<ShownMessage>) => [...shown].sort((a, b) => a.seq - b.seq);
        // Three root messages and two replies, the stream, and the closing message.
        expect(server.length).toBe(5 + STREAM_LENGTH + 1);
        for (const d of devices) {
          expect(
            sorted(d.messages(channelTopic(channelId), baseOf.get(d)).values()),
            d.name,
          ).toEqual(sorted(server));
        }
        expect(server.find((m) => m.id === ids.build)).toMatchObject({
          edited: true,
          replyCount: 2,
        });
        expect(server.find((m) => m.id === ids.onIt)?.reactions).toEqual({
          '🙏': [person('bob').id],
          '🚀': [person('bob').id],
        });
      },
      STAGE_TIMEOUT_MS,
    );

    it(
      'lists each user their unread state and mentions as the history implies, on every device',
      async () => {
        // Bob reads everything on his laptop; his phone follows, the thread mention stays.
        const history = await readHistory();
        const newest = Math.max(...history.map((m) => m.seq));
        await bob1.op('read', { conversation_id: channelId, seq: newest });
        const bobTopic = userChatTopic(person('bob').id);
        await bob2.until(
          'the final read marker',
          () => bob2.readState(bobTopic, channelId)?.lastReadSeq === newest,
        );

        for (const [name, token] of [
          ['alice', person('alice').token],
          ['bob', person('bob').token],
          ['bob', bobSecondToken],
          ['carol', person('carol').token],
        ] as const) {
          await expectListed(name, token, history);
        }
        expect(bob2.readState(bobTopic, channelId)).toEqual(await readState(bobSecondToken));
        expect(await readState(bobSecondToken)).toMatchObject({
          lastReadSeq: newest,
          mentionCount: 1,
        });

        // Bob opens the thread on his phone: the mention goes, on the laptop too.
        const thread = await api(nodeA(), 'PUT', `/api/v1/messages/${ids.build}/thread/read`, {
          token: bobSecondToken,
        });
        expectStatus(thread, 200, 'bob reading the thread');
        threadReads.set(person('bob').id, new Map([[ids.build!, thread.body.lastReadSeq]]));
        await bob1.until(
          'the thread read from the phone',
          () => bob1.readState(bobTopic, channelId)?.mentionCount === 0,
        );
        await expectListed('bob', person('bob').token, history);
        await expectListed('bob', bobSecondToken, history);
      },
      STAGE_TIMEOUT_MS,
    );

    async function readHistory(): Promise<WireMessage[]> {
      const history = await api(
        nodeB(),
        'GET',
        `/api/v1/channels/${channelId}/messages?thread=all&limit=200`,
        {
          token: person('alice').token,
        },
      );
      expectStatus(history, 200, 'reading the history');
      return history.body.items as WireMessage[];
    }

    async function readState(
      token: string,
    ): Promise<{ lastReadSeq: number; mentionCount: number }> {
      const state = await api(nodeB(), 'GET', `/api/v1/channels/${channelId}/read`, { token });
      return { lastReadSeq: state.body.lastReadSeq, mentionCount: state.body.mentionCount };
    }

    /**
     * What the channel list must show `name`, worked out from the history alone: the marker is at
     * least their newest root message; others' root messages after it are unread; a root message
     * after it that names them or says @channel/@here is a mention, and so is a reply naming them
     * after their marker in its thread (their own newest reply there, or an explicit read).
     */
    async function expectListed(
      name: string,
      token: string,
      history: WireMessage[],
    ): Promise<void> {
      const me = person(name).id;
      const list = await api(
        name === 'alice' ? nodeB() : nodeA(),
        'GET',
        `/api/v1/workspaces/${workspaceId}/channels?member=true`,
        { token },
      );
      expectStatus(list, 200, `${name}'s channel list`);
      const item = (list.body.items as Array<Record<string, unknown>>).find(
        (c) => c.id === channelId,
      )!;
      const marker = item.lastReadSeq as number;
      const roots = history.filter((m) => m.threadRootId === null && m.deletedAt === null);
      const ownNewest = Math.max(0, ...roots.filter((m) => m.authorId === me).map((m) => m.seq));
      expect(marker, `${name}'s marker`).toBeGreaterThanOrEqual(ownNewest);
      const named = (m: WireMessage) => m.mentions.userIds.includes(me);
      const everyone = (m: WireMessage) => m.mentions.channel || m.mentions.here;
      const threadMarker = (rootId: string) =>
        Math.max(
          threadReads.get(me)?.get(rootId) ?? 0,
          ...history
            .filter((m) => m.threadRootId === rootId && m.authorId === me)
            .map((m) => m.seq),
        );
      const unread = roots.filter((m) => m.seq > marker && m.authorId !== me);
      const mentions =
        unread.filter((m) => named(m) || everyone(m)).length +
        history.filter(
          (m) =>
            m.threadRootId !== null &&
            m.deletedAt === null &&
            m.authorId !== me &&
            named(m) &&
            m.seq > threadMarker(m.threadRootId),
        ).length;
      expect(
        { unread: item.unread, mentionCount: item.mentionCount },
        `${name}'s #launch in the channel list`,
      ).toEqual({ unread: unread.length > 0, mentionCount: mentions });
      const read = await api(nodeB(), 'GET', `/api/v1/channels/${channelId}/read`, { token });
      expect(read.body, `${name}'s read state`).toMatchObject({
        lastReadSeq: marker,
        mentionCount: mentions,
        unreadCount: unread.length,
        unread: unread.length > 0,
      });
    }
  },
);
