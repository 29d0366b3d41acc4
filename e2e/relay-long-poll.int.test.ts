// The long-poll path (`GET /openclaw/messages?wait=`) end to end: a waiting poll is answered by
// the webhook's message as soon as it commits, the message is then delivered, and the reply
// reaches Kakao's callback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKakao } from '../server/src/relay/test-support/fake-kakao.js';
import { PluginClient } from '../server/src/relay/test-support/plugin-client.js';
import type { TestServer } from '../server/src/test-support/server.js';
import { target } from '../server/src/test-support/services.js';
import {
  createAccount,
  missingRoutes,
  pairConversation,
  REPLIES,
  startRelayServer,
  untilMessageState,
} from './support/relay.js';

const ROUTES = [
  'POST /kakao-talkchannel/webhook',
  'GET /openclaw/messages',
  'POST /openclaw/reply',
];
const WAIT_SECONDS = 20;

/** The text of a polled message, whichever payload field the relay names it by. */
function textOf(message: Record<string, unknown>): string | undefined {
  const normalized = message.normalized as { text?: string } | undefined;
  const payload = (message.payload ?? message.kakaoPayload) as
    { userRequest?: { utterance?: string } } | undefined;
  return normalized?.text ?? payload?.userRequest?.utterance;
}

describe(`relay: long-poll flow (${target})`, () => {
  let server: TestServer;
  let kakao: FakeKakao;
  let missing: string[] = [];

  beforeAll(async () => {
    server = await startRelayServer();
    kakao = await FakeKakao.start({ relayUrl: server.url });
    missing = missingRoutes(server.server, ROUTES);
  });

  afterAll(async () => {
    await kakao?.close();
    await server?.stop();
  });

  it('wakes a waiting poll with the webhook message, then takes the reply', async (ctx) => {
    if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
    const relay = server.server.relay.context;
    const account = await createAccount(server.server, relay);
    expect(await pairConversation(kakao, relay, account, 'dave')).toBe(REPLIES.paired);
    const agent = new PluginClient({ relayUrl: server.url, token: account.relayToken });

    const empty = await agent.request('GET', 'openclaw/messages?wait=0');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ messages: [], hasMore: false });

    const started = performance.now();
    const poll = agent.request('GET', `openclaw/messages?wait=${WAIT_SECONDS}`, undefined, {
      timeoutMs: (WAIT_SECONDS + 10) * 1000,
    });
    // The poll is waiting before the message exists: let it reach the server first.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = await kakao.send({ utterance: 'are you there', userKey: 'dave', botId: 'bot-1' });
    expect(sent.body).toEqual({ version: '2.0', useCallback: true });
    const answer = await poll;
    const waited = performance.now() - started;
    expect(answer.status).toBe(200);
    const { messages } = answer.body as { messages: Array<Record<string, unknown>> };
    expect(messages).toHaveLength(1);
    const message = messages[0]!;
    expect(textOf(message)).toBe('are you there');
    // Woken by the message, not by the end of the wait.
    expect(waited).toBeLessThan((WAIT_SECONDS * 1000) / 2);
    const id = String(message.id);
    await untilMessageState(relay, id, 'delivered');

    const again = await agent.request('GET', 'openclaw/messages?wait=0');
    expect((again.body as { messages: unknown[] }).messages).toEqual([]);

    const response = { version: '2.0', template: { outputs: [{ simpleText: { text: 'yes' } }] } };
    const replied = (await agent.reply(id, response)) as Record<string, unknown>;
    expect(replied.success).toBe(true);
    expect((await kakao.callbackOn(sent.callbackUrl!)).body).toEqual(response);
    await untilMessageState(relay, id, 'acked');
  });
});
