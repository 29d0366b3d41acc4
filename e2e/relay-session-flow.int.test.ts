// The zero-configuration path the OpenClaw plugin takes, end to end over real sockets: the agent
// creates a session, a Kakao user pairs with its code, messages reach the agent's stream once,
// the reply reaches Kakao's single-use callback once, and unpairing tells the agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKakao } from '../server/src/relay/test-support/fake-kakao.js';
import { PluginClient, RelayHttpError } from '../server/src/relay/test-support/plugin-client.js';
import type { TestServer } from '../server/src/test-support/server.js';
import { target } from '../server/src/test-support/services.js';
import { missingRoutes, REPLIES, startRelayServer, untilMessageState } from './support/relay.js';

const ROUTES = [
  'POST /kakao-talkchannel/webhook',
  'POST /v1/sessions/create',
  'GET /v1/sessions/:sessionToken/status',
  'GET /v1/events',
  'POST /openclaw/reply',
];

describe(`relay: plugin session flow (${target})`, () => {
  let server: TestServer;
  let kakao: FakeKakao;
  let missing: string[] = [];
  const clients: PluginClient[] = [];

  beforeAll(async () => {
    server = await startRelayServer();
    kakao = await FakeKakao.start({ relayUrl: server.url });
    missing = missingRoutes(server.server, ROUTES);
  });

  afterAll(async () => {
    for (const client of clients) await client.stop();
    await kakao?.close();
    await server?.stop();
  });

  it('pairs, delivers, replies once, answers /status and /unpair, and ends the pairing', async (ctx) => {
    if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
    const agent = new PluginClient({ relayUrl: `${server.url}/`, reconnectBaseMs: 20 });
    clients.push(agent);

    const session = await agent.createSession();
    expect(session.sessionToken).toMatch(/^[0-9a-f]{64}$/);
    expect(session.pairingCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(session).toMatchObject({ expiresIn: 300, status: 'pending_pairing' });
    const pending = await agent.sessionStatus();
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ status: 'pending_pairing' });

    agent.start();
    await agent.until('the pending stream to open', () => agent.state === 'open');

    // Lower-case and spaced as a person might type it.
    const pair = await kakao.send({
      utterance: `/pair ${session.pairingCode.toLowerCase()}`,
      userKey: 'alice',
      botId: 'bot-1',
    });
    expect(pair.status).toBe(200);
    expect(FakeKakao.textOf(pair.body)).toBe(REPLIES.paired);

    const complete = await agent.nextEvent('pairing_complete');
    expect(complete.data).toMatchObject({ kakaoUserId: 'alice' });
    expect(typeof complete.data.accountId).toBe('string');
    expect(Date.parse(String(complete.data.pairedAt))).not.toBeNaN();
    // The plugin reconnects at once so that its stream is bound to the new account.
    await agent.until(
      'the reconnect after pairing',
      () => agent.connections >= 2 && agent.state === 'open',
    );
    const paired = await agent.sessionStatus();
    expect(paired.body).toMatchObject({
      status: 'paired',
      kakaoUserId: 'alice',
      accountId: complete.data.accountId,
    });

    const hello = await kakao.send({ utterance: '안녕하세요', userKey: 'alice', botId: 'bot-1' });
    expect(hello.status).toBe(200);
    expect(hello.body).toEqual({ version: '2.0', useCallback: true });
    const event = await agent.nextEvent('message', (e) => e.data.conversationKey === 'bot-1:alice');
    expect(event.id).toMatch(/^\S+$/);
    const message = event.data as {
      id: string;
      conversationKey: string;
      kakaoPayload: { userRequest: { utterance: string } };
      normalized: unknown;
      createdAt: string;
    };
    expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(message.normalized).toEqual({ userId: 'alice', text: '안녕하세요', channelId: 'bot-1' });
    expect(message.kakaoPayload.userRequest.utterance).toBe('안녕하세요');
    expect(message).not.toHaveProperty('callbackUrl');
    await untilMessageState(server.server.relay.context, message.id, 'delivered');

    const response = {
      version: '2.0',
      template: { outputs: [{ simpleText: { text: '반갑습니다' } }] },
    };
    const replied = (await agent.reply(message.id, response)) as Record<string, unknown>;
    expect(replied.success).toBe(true);
    expect(typeof replied.deliveredAt).toBe('number');
    const callback = await kakao.callbackOn(hello.callbackUrl!);
    expect(callback.body).toEqual(response);
    expect(callback.answeredStatus).toBe('SUCCESS');

    // Block streaming sends more than one reply per message: only the first may reach Kakao.
    const second = await agent.reply(message.id, response).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(RelayHttpError);
    expect((second as RelayHttpError).status).toBe(409);
    expect(kakao.callbacksFor(hello.callbackUrl!)).toHaveLength(1);
    await untilMessageState(server.server.relay.context, message.id, 'acked');

    const status = await kakao.send({ utterance: '/status', userKey: 'alice', botId: 'bot-1' });
    expect(FakeKakao.textOf(status.body)).toMatch(/^✅ 연결됨\n\n/);

    const unpair = await kakao.send({ utterance: '/unpair', userKey: 'alice', botId: 'bot-1' });
    expect(FakeKakao.textOf(unpair.body)).toBe(REPLIES.unpaired);
    const expired = await agent.nextEvent('pairing_expired');
    expect(expired.data).toMatchObject({ reason: 'unpaired' });

    const after = await kakao.send({ utterance: 'still there?', userKey: 'alice', botId: 'bot-1' });
    expect(FakeKakao.textOf(after.body)).toMatch(new RegExp(`^${REPLIES.notConnectedPrefix}`));

    // Exactly once, whatever reconnects happened.
    expect(agent.eventsOf('pairing_complete')).toHaveLength(1);
    expect(agent.eventsOf('message')).toHaveLength(1);
    expect(agent.eventsOf('pairing_expired')).toHaveLength(1);
    expect(agent.dropped).toEqual([]);
  });

  it('answers an unknown session token 401 on the stream and the reply', async (ctx) => {
    if (missing.length > 0) ctx.skip(`waits for ${missing.join(', ')}`);
    const stranger = new PluginClient({
      relayUrl: server.url,
      token: 'f'.repeat(64),
      reconnectBaseMs: 20,
    });
    clients.push(stranger);
    stranger.start();
    await stranger.until('invalidation', () => stranger.state === 'invalidated');
    expect((stranger.failure as RelayHttpError).status).toBe(401);
    const reply = new PluginClient({ relayUrl: server.url, token: 'f'.repeat(64) });
    await expect(
      reply.reply('00000000-0000-4000-8000-000000000000', { version: '2.0' }),
    ).rejects.toMatchObject({
      status: 401,
    });
  });
});
