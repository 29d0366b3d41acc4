// Two relay instances on one PostgreSQL database and one Redis: Kakao's webhook lands on A while
// the agent streams from B; B's connection is cut mid-stream and the agent comes back through A
// with Last-Event-ID while messages keep arriving. Every message must reach the agent exactly
// once, in order, and be marked delivered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKakao } from '../server/src/relay/test-support/fake-kakao.js';
import { PluginClient } from '../server/src/relay/test-support/plugin-client.js';
import {
  createTestDatabase,
  realPostgresUrl,
  realRedisUrl,
  skipReason,
} from '../server/src/test-support/services.js';
import { runCleanups } from '../server/src/test-support/processes.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import {
  createAccount,
  missingRoutes,
  pairConversation,
  REPLIES,
  startRelayNode,
  untilMessageStates,
} from './support/relay.js';
import type { RunningServer } from '../server/src/main.js';

const skip = !realPostgresUrl
  ? skipReason('PostgreSQL')
  : !realRedisUrl
    ? skipReason('Redis')
    : undefined;
const ROUTES = ['POST /kakao-talkchannel/webhook', 'GET /v1/events'];
const MESSAGES = 60;
const CUT_AFTER = 20;
const CONVERSATIONS = ['erin', 'frank', 'grace'];

describe.skipIf(skip)(
  `relay: two instances, one database and Redis${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    const cleanups: Array<() => unknown> = [];
    let a: RunningServer;
    let b: RunningServer;
    let proxyToB: TcpProxy;
    let kakao: FakeKakao;
    let missing: string[] = [];

    beforeAll(async () => {
      const database = await createTestDatabase();
      cleanups.push(() => database.drop());
      // One after the other: the second waits on the migration lock anyway.
      const nodeA = await startRelayNode(database.url, realRedisUrl!, 'relay-a');
      cleanups.push(() => nodeA.stop());
      const nodeB = await startRelayNode(database.url, realRedisUrl!, 'relay-b');
      cleanups.push(() => nodeB.stop());
      a = nodeA.server;
      b = nodeB.server;
      proxyToB = await startTcpProxy({ targetPort: b.port });
      cleanups.push(() => proxyToB.close());
      kakao = await FakeKakao.start({ relayUrl: a.url });
      cleanups.push(() => kakao.close());
      missing = missingRoutes(a, ROUTES);
    }, 120_000);

    afterAll(() => runCleanups(cleanups));

    it('delivers every message once, in order, across a cut and a move to the other instance', async (ctx) => {
      if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
      const relay = a.relay.context;
      const account = await createAccount(a, relay);
      for (const user of CONVERSATIONS) {
        expect(await pairConversation(kakao, relay, account, user)).toBe(REPLIES.paired);
      }
      let relayUrl = `http://127.0.0.1:${proxyToB.port}/`;
      const agent = new PluginClient({
        relayUrl: () => relayUrl,
        token: account.relayToken,
        reconnectBaseMs: 20,
      });
      cleanups.push(() => agent.stop());
      agent.start();
      await agent.until('the stream on B', () => agent.state === 'open');

      const sent: string[] = [];
      for (let n = 0; n < MESSAGES; n++) {
        const user = CONVERSATIONS[n % CONVERSATIONS.length]!;
        const answer = await kakao.send({ utterance: `m${n}`, userKey: user, botId: 'bot-1' });
        expect(answer.body, `message ${n}`).toEqual({ version: '2.0', useCallback: true });
        sent.push(`m${n}`);
        if (n === CUT_AFTER - 1) {
          await agent.until(
            `${CUT_AFTER} messages on B`,
            () => agent.messages().length >= CUT_AFTER,
          );
          // The agent's network to B fails; its next connect goes to A.
          relayUrl = `${a.url}/`;
          proxyToB.cut();
        }
      }
      await agent.until(
        `all ${MESSAGES} messages`,
        () => agent.messages().length >= MESSAGES,
        30_000,
      );
      const received = agent.messages();
      expect(received.map((m) => m.normalized.text)).toEqual(sent);
      expect(new Set(received.map((m) => m.id)).size).toBe(MESSAGES);
      const ids = agent.eventsOf('message').map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(agent.connections).toBeGreaterThanOrEqual(2);
      expect(agent.eventsOf('message').at(-1)!.connection).toBeGreaterThan(1);

      await untilMessageStates(
        relay,
        received.map((m) => m.id),
        'delivered',
      );
    }, 120_000);
  },
);
