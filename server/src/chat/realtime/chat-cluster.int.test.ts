// Two server instances on one PostgreSQL database and one Redis: a user connected to one node
// follows a channel joined and left through the other, before seeing the event, and gets the
// channel's messages only while a member.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import { startServer, type RunningServer } from '../../main.js';
import {
  createTestDatabase,
  makeTempDir,
  realPostgresUrl,
  realRedisUrl,
  skipReason,
  testLogger,
} from '../../test-support/services.js';
import { connectWs, type TestSocket } from '../../test-support/ws-client.js';
import { sendMessage } from '../messages/index.js';
import { makeChatUser, type ChatTestUser } from '../test-support/api.js';
import { activityTopic, channelTopic } from '../topics.js';
import { joinChannel, leaveChannel, makeChannel, makeWorkspace } from './test-fixtures.js';

const skip = !realPostgresUrl
  ? skipReason('PostgreSQL')
  : !realRedisUrl
    ? skipReason('Redis')
    : undefined;

describe.skipIf(skip)(
  `chat realtime across two nodes sharing PostgreSQL and Redis${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let nodeA: RunningServer;
    let nodeB: RunningServer;
    let alice: ChatTestUser;
    let bob: ChatTestUser;

    beforeAll(async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      const jwtSecret = randomBytes(32).toString('hex');
      const start = async () => {
        const dir = makeTempDir('sb-chat-node-');
        cleanups.push(() => dir.remove());
        const { config } = loadConfig({
          env: {
            HOST: '127.0.0.1',
            PORT: '0',
            GRPC_PORT: '0',
            LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
            DATA_DIR: dir.path,
            DATABASE_URL: database.url,
            REDIS_URL: realRedisUrl!,
            JWT_SECRET: jwtSecret,
          },
          cwd: dir.path,
          secrets: 'persist',
        });
        const server = await startServer({ config, logger: testLogger });
        cleanups.push(() => server.stop());
        return server;
      };
      nodeA = await start();
      nodeB = await start();
      alice = await makeChatUser(nodeA, 'alice');
      bob = await makeChatUser(nodeA, 'bob');
    }, 120_000);
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it('subscribes and unsubscribes connections on the other node as the user joins and leaves', async () => {
      const workspaceId = await makeWorkspace(nodeA, alice.id, [bob.id]);
      const channel = await makeChannel(nodeA, workspaceId, 'private', [alice.id]);
      const socket: TestSocket = await connectWs(
        `${nodeB.url.replace(/^http/, 'ws')}/ws?token=${bob.accessToken}`,
      );
      cleanups.push(() => socket.close());
      await socket.next((f) => f.op === 'connected');

      await joinChannel(nodeA, channel, bob.id, workspaceId);
      const joined = await socket.next((f) => f.type === 'channel.joined');
      const subscribed = socket.frames.find((f) => f.op === 'subscribed');
      expect(subscribed).toBeDefined();
      expect(socket.frames.indexOf(subscribed!)).toBeLessThan(socket.frames.indexOf(joined));
      expect(Object.keys(subscribed!.positions as object).sort()).toEqual(
        [channelTopic(channel), activityTopic(channel)].sort(),
      );
      const send = (body: string) =>
        sendMessage(nodeA.chat.context, alice.id, { channelId: channel, body });
      const { message } = await send('across nodes');
      expect(
        await socket.next((f) => f.type === 'message.created' && f.seq === message.seq),
      ).toMatchObject({ topic: channelTopic(channel), message: { body: 'across nodes' } });

      await leaveChannel(nodeA, channel, bob.id, workspaceId);
      await socket.next((f) => f.type === 'channel.left');
      expect(socket.frames.find((f) => f.op === 'unsubscribed')).toMatchObject({
        topics: expect.arrayContaining([channelTopic(channel)]) as unknown,
      });
      await send('after bob left');
      // A later event on bob's own topic proves the channel's message had time to arrive.
      await joinChannel(nodeA, channel, bob.id, workspaceId);
      await socket.next((f) => f.type === 'channel.joined' && f.seq === 3);
      expect(
        socket.frames.some(
          (f) => (f.message as { body?: string } | undefined)?.body === 'after bob left',
        ),
      ).toBe(false);
    });
  },
);
