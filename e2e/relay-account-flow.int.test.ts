// The account-token path (Gen A endpoints) end to end: an operator's account issues a code, a
// Kakao user pairs with it, the agent streams `/v1/events`, replies with `/v1/reply`, acks with
// `/v1/messages/ack`, lists and unpairs its conversations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKakao } from '../server/src/relay/test-support/fake-kakao.js';
import { PluginClient } from '../server/src/relay/test-support/plugin-client.js';
import type { TestServer } from '../server/src/test-support/server.js';
import { target } from '../server/src/test-support/services.js';
import {
  createAccount,
  missingRoutes,
  REPLIES,
  startRelayServer,
  untilMessageStates,
} from './support/relay.js';

const ROUTES = [
  'POST /kakao-talkchannel/webhook',
  'POST /v1/pairing/generate',
  'GET /v1/pairing/list',
  'POST /v1/pairing/unpair',
  'GET /v1/events',
  'POST /v1/reply',
  'POST /v1/messages/ack',
];

describe(`relay: account token flow over /v1 (${target})`, () => {
  let server: TestServer;
  let kakao: FakeKakao;
  let missing: string[] = [];
  let agent: PluginClient | undefined;

  beforeAll(async () => {
    server = await startRelayServer();
    kakao = await FakeKakao.start({ relayUrl: server.url });
    missing = missingRoutes(server.server, ROUTES);
  });

  afterAll(async () => {
    await agent?.stop();
    await kakao?.close();
    await server?.stop();
  });

  it('generates a code, pairs, streams, replies, acks, lists and unpairs', async (ctx) => {
    if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
    const relay = server.server.relay.context;
    const account = await createAccount(server.server, relay);
    agent = new PluginClient({
      relayUrl: server.url,
      token: account.relayToken,
      reconnectBaseMs: 20,
    });

    const generated = await agent.request('POST', 'v1/pairing/generate', { expirySeconds: 120 });
    expect(generated.status).toBe(200);
    const { code, expiresAt } = generated.body as { code: string; expiresAt: string };
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const lifetime = Date.parse(expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(60_000);
    expect(lifetime).toBeLessThanOrEqual(120_000);

    const pair = await kakao.send({ utterance: `/pair ${code}`, userKey: 'bob', botId: 'bot-7' });
    expect(FakeKakao.textOf(pair.body)).toBe(REPLIES.paired);

    agent.start();
    await agent.until('the stream to open', () => agent!.state === 'open');

    const first = await kakao.send({ utterance: 'first', userKey: 'bob', botId: 'bot-7' });
    const second = await kakao.send({ utterance: 'second', userKey: 'bob', botId: 'bot-7' });
    expect(first.body).toEqual({ version: '2.0', useCallback: true });
    await agent.until('both messages', () => agent!.messages().length === 2);
    const [m1, m2] = agent.messages();
    expect(m1!.normalized).toEqual({ userId: 'bob', text: 'first', channelId: 'bot-7' });
    expect(m2!.normalized.text).toBe('second');
    expect(m1!.conversationKey).toBe('bot-7:bob');
    // Ids on the wire increase, so a reconnect can resume after the last one.
    const [e1, e2] = agent.eventsOf('message');
    expect(Number(e2!.id)).toBeGreaterThan(Number(e1!.id));

    const response = { version: '2.0', template: { outputs: [{ simpleText: { text: 'ok' } }] } };
    const replied = (await agent.reply(m1!.id, response, 'v1/reply')) as Record<string, unknown>;
    expect(replied.success).toBe(true);
    expect((await kakao.callbackOn(first.callbackUrl!)).body).toEqual(response);

    const ack = await agent.request('POST', 'v1/messages/ack', { messageIds: [m2!.id] });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ acknowledged: 1, requested: 1 });
    await untilMessageStates(relay, [m1!.id, m2!.id], 'acked');
    expect(kakao.callbacksFor(second.callbackUrl!)).toEqual([]);

    const list = await agent.request('GET', 'v1/pairing/list');
    expect(list.status).toBe(200);
    const listed = list.body as { conversations: Array<Record<string, unknown>>; total: number };
    expect(listed.total).toBe(1);
    expect(listed.conversations).toHaveLength(1);
    expect(listed.conversations[0]).toMatchObject({
      conversationKey: 'bot-7:bob',
      state: 'paired',
    });
    expect(Date.parse(String(listed.conversations[0]!.pairedAt))).not.toBeNaN();

    const unpair = await agent.request('POST', 'v1/pairing/unpair', {
      conversationKey: 'bot-7:bob',
    });
    expect(unpair.status).toBe(200);
    expect(unpair.body).toMatchObject({ success: true });
    const empty = await agent.request('GET', 'v1/pairing/list');
    expect(empty.body).toMatchObject({ conversations: [], total: 0 });

    const after = await kakao.send({ utterance: 'hello?', userKey: 'bob', botId: 'bot-7' });
    expect(FakeKakao.textOf(after.body)).toMatch(new RegExp(`^${REPLIES.notConnectedPrefix}`));
    expect(agent.messages()).toHaveLength(2);
    expect(agent.dropped).toEqual([]);
  });

  it("refuses another account's conversation and messages", async (ctx) => {
    if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
    const relay = server.server.relay.context;
    const owner = await createAccount(server.server, relay);
    const other = await createAccount(server.server, relay);
    const ownerClient = new PluginClient({ relayUrl: server.url, token: owner.relayToken });
    const otherClient = new PluginClient({ relayUrl: server.url, token: other.relayToken });
    const { code } = (await ownerClient.request('POST', 'v1/pairing/generate')).body as {
      code: string;
    };
    await kakao.send({ utterance: `/pair ${code}`, userKey: 'carol', botId: 'bot-7' });
    const unpair = await otherClient.request('POST', 'v1/pairing/unpair', {
      conversationKey: 'bot-7:carol',
    });
    expect(unpair.status).toBe(404);
    const list = await ownerClient.request('GET', 'v1/pairing/list');
    expect((list.body as { total: number }).total).toBe(1);
  });
});
