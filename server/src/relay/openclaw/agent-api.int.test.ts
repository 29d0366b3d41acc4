// The agent API over real HTTP: who may call it (relay tokens, session tokens in every state),
// the per-account rate limit, acks, owner pairing, plugin sessions, tenant isolation and
// the plugin's `//health`.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { createSession, pairConversation } from '../pairing/index.js';
import { accounts, inboundMessages, sessions } from '../schema.js';
import { hashToken } from '../tokens.js';
import { call, makeAccount, openStream, queueMessage, type TestAccount } from './test-fixtures.js';

const conversation = (user: string) => ({
  conversationKey: `bot-1:${user}`,
  kakaoChannelId: 'bot-1',
  plusfriendUserKey: user,
});

describe(`relay agent API (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    t = await startTestServer();
    ctx = t.server.relay.context;
    [alice, bob] = await Promise.all([makeAccount(ctx), makeAccount(ctx)]);
  });
  afterAll(() => t?.stop());

  /** Pairs a conversation to an account through an owner-issued code. */
  const pairWith = async (account: TestAccount, user: string) => {
    const code = await call(t.url, 'POST', '/v1/pairing/generate', { token: account.token });
    expect(code.status).toBe(200);
    const outcome = await pairConversation(ctx, conversation(user), code.body.code as string);
    expect(outcome.kind).toBe('paired');
  };

  it('authenticates relay tokens and session tokens, by header or ?token=', async () => {
    expect((await call(t.url, 'GET', '/v1/pairing/list')).status).toBe(401);
    const unknown = await call(t.url, 'GET', '/v1/pairing/list', { token: 'f'.repeat(64) });
    expect(unknown).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect((await call(t.url, 'GET', '/v1/pairing/list', { token: alice.token })).status).toBe(200);
    // The query parameter is read first.
    const byQuery = await call(t.url, 'GET', `/v1/pairing/list?token=${alice.token}`, {
      token: 'f'.repeat(64),
    });
    expect(byQuery.status).toBe(200);

    const disabled = await makeAccount(ctx, { disabled: true });
    expect(await call(t.url, 'GET', '/v1/pairing/list', { token: disabled.token })).toMatchObject({
      status: 403,
      body: { error: { code: 'account_disabled' } },
    });

    // A pending session may stream but not act for an account.
    const pending = await createSession(ctx);
    expect(
      await call(t.url, 'POST', '/v1/pairing/generate', { token: pending.sessionToken }),
    ).toMatchObject({ status: 403, body: { error: { code: 'session_not_paired' } } });
    expect(
      await call(t.url, 'POST', '/openclaw/reply', {
        token: pending.sessionToken,
        body: { messageId: crypto.randomUUID(), response: { version: '2.0' } },
      }),
    ).toMatchObject({ status: 403, body: { error: { code: 'session_not_paired' } } });

    // Paired: the session token acts for its account; its account disabled → 403.
    const paired = await createSession(ctx);
    await pairConversation(ctx, conversation('paired-user'), paired.pairingCode);
    expect(
      (await call(t.url, 'GET', '/v1/pairing/list', { token: paired.sessionToken })).body,
    ).toMatchObject({ total: 1, conversations: [{ conversationKey: 'bot-1:paired-user' }] });
    const [row] = await ctx.db
      .select({ accountId: sessions.accountId })
      .from(sessions)
      .where(eq(sessions.id, paired.sessionId));
    await ctx.db
      .update(accounts)
      .set({ disabledAt: new Date() })
      .where(eq(accounts.id, row!.accountId!));
    expect(
      (await call(t.url, 'GET', '/v1/pairing/list', { token: paired.sessionToken })).status,
    ).toBe(403);

    // Expired, disconnected, or pending past its deadline: 410, which the plugin treats as over.
    const lapsed = await createSession(ctx);
    await ctx.db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(sessions.id, lapsed.sessionId));
    const disconnected = await createSession(ctx);
    await ctx.db
      .update(sessions)
      .set({ status: 'disconnected' })
      .where(eq(sessions.id, disconnected.sessionId));
    for (const token of [lapsed.sessionToken, disconnected.sessionToken]) {
      const stream = await openStream(t.url, token);
      expect(stream.status).toBe(410);
      await stream.ended();
      expect(JSON.parse(stream.text())).toMatchObject({ error: { code: 'session_expired' } });
    }
  });

  it('limits each account per minute on every route, SSE connects included', async () => {
    const limited = await makeAccount(ctx, { rateLimitPerMinute: 3 });
    const first = await call(t.url, 'GET', '/v1/pairing/list', { token: limited.token });
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    const stream = await openStream(t.url, limited.token);
    expect(stream.status).toBe(200);
    expect(stream.headers['x-ratelimit-remaining']).toBe('1');
    stream.close();
    expect(
      (
        await call(t.url, 'POST', '/v1/messages/ack', {
          token: limited.token,
          body: { messageIds: [crypto.randomUUID()] },
        })
      ).headers.get('x-ratelimit-remaining'),
    ).toBe('0');
    const refused = await call(t.url, 'GET', '/v1/pairing/list', { token: limited.token });
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await openStream(t.url, limited.token)).status).toBe(429);
    // Another account's budget is its own.
    expect((await call(t.url, 'GET', '/v1/pairing/list', { token: bob.token })).status).toBe(200);
  });

  it('acks only the caller’s open messages', async () => {
    const mine = await queueMessage(ctx, alice.id);
    const delivered = await queueMessage(ctx, alice.id);
    await ctx.db
      .update(inboundMessages)
      .set({ status: 'delivered' })
      .where(eq(inboundMessages.id, delivered.id));
    const theirs = await queueMessage(ctx, bob.id);
    const ack = await call(t.url, 'POST', '/v1/messages/ack', {
      token: alice.token,
      body: { messageIds: [mine.id, delivered.id, theirs.id, crypto.randomUUID()] },
    });
    expect(ack).toMatchObject({ status: 200, body: { acknowledged: 2, requested: 4 } });
    const [bobs] = await ctx.db
      .select({ status: inboundMessages.status })
      .from(inboundMessages)
      .where(eq(inboundMessages.id, theirs.id));
    expect(bobs!.status).toBe('queued');
    expect(
      (
        await call(t.url, 'POST', '/v1/messages/ack', {
          token: alice.token,
          body: { messageIds: [] },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(t.url, 'POST', '/v1/messages/ack', {
          token: alice.token,
          body: { messageIds: ['not-a-uuid'] },
        })
      ).status,
    ).toBe(400);
  });

  it('issues pairing codes, lists and unpairs the caller’s conversations only', async () => {
    const code = await call(t.url, 'POST', '/v1/pairing/generate', {
      token: alice.token,
      body: { expirySeconds: 99_999, metadata: { note: 'x' } },
    });
    expect(code.status).toBe(200);
    expect(code.body.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const lifetime = Date.parse(code.body.expiresAt as string) - Date.now();
    expect(lifetime).toBeGreaterThan(1790_000);
    expect(lifetime).toBeLessThanOrEqual(1800_000);
    await pairConversation(ctx, conversation('alice-user'), code.body.code as string);
    await pairWith(bob, 'bob-user');

    const list = await call(t.url, 'GET', '/v1/pairing/list', { token: alice.token });
    expect(list.body).toEqual({
      total: 1,
      conversations: [
        {
          conversationKey: 'bot-1:alice-user',
          state: 'paired',
          pairedAt: expect.any(String),
          lastSeenAt: expect.any(String),
        },
      ],
    });
    // Bob's conversation is not Alice's to unpair: not found, and still paired.
    expect(
      await call(t.url, 'POST', '/v1/pairing/unpair', {
        token: alice.token,
        body: { conversationKey: 'bot-1:bob-user' },
      }),
    ).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await call(t.url, 'GET', '/v1/pairing/list', { token: bob.token })).body.total).toBe(1);
    expect(
      await call(t.url, 'POST', '/v1/pairing/unpair', {
        token: alice.token,
        body: { conversationKey: 'bot-1:alice-user' },
      }),
    ).toMatchObject({ status: 200, body: { success: true } });
    expect((await call(t.url, 'GET', '/v1/pairing/list', { token: alice.token })).body).toEqual({
      conversations: [],
      total: 0,
    });
  });

  it('never shows or answers another tenant’s message', async () => {
    const theirs = await queueMessage(ctx, bob.id, {
      callbackUrl: 'http://127.0.0.1:9/never',
    });
    const reply = await call(t.url, 'POST', '/v1/reply', {
      token: alice.token,
      body: {
        messageId: theirs.id,
        response: { version: '2.0', template: { outputs: [{ simpleText: { text: 'hi' } }] } },
      },
    });
    expect(reply).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const polled = await call(t.url, 'GET', '/openclaw/messages', { token: alice.token });
    expect(polled.body.messages.map((m: { id: string }) => m.id)).not.toContain(theirs.id);
    const stream = await openStream(t.url, alice.token);
    await stream.eventsOf('connected', 1);
    expect(stream.events().map((e) => e.data.id)).not.toContain(theirs.id);
    stream.close();
  });

  it('creates plugin sessions and reports their status', async () => {
    const created = await call(t.url, 'POST', '/v1/sessions/create', { body: {} });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      sessionToken: expect.stringMatching(/^[0-9a-f]{64}$/),
      pairingCode: expect.stringMatching(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/),
      expiresIn: 300,
      status: 'pending_pairing',
    });
    expect(created.headers.get('x-ratelimit-limit')).toBe('10');
    const token = created.body.sessionToken as string;
    const status = (tk: string) => call(t.url, 'GET', `/v1/sessions/${tk}/status`);
    expect((await status(token)).body).toEqual({ status: 'pending_pairing' });
    expect(await status('f'.repeat(64))).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });

    await pairConversation(ctx, conversation('session-user'), created.body.pairingCode as string);
    const paired = await status(token);
    expect(paired.body).toEqual({
      status: 'paired',
      pairedAt: expect.any(String),
      kakaoUserId: 'session-user',
      accountId: expect.any(String),
    });

    const lapsed = await createSession(ctx);
    await ctx.db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(sessions.sessionTokenHash, hashToken(lapsed.sessionToken)));
    expect((await status(lapsed.sessionToken)).body).toEqual({ status: 'expired' });
  });

  it('answers //health like /health', async () => {
    const plain = await call(t.url, 'GET', '/health');
    const doubled = await call(t.url, 'GET', '//health');
    expect(plain.status).toBe(200);
    expect(doubled.status).toBe(plain.status);
    expect(Object.keys(doubled.body as object)).toEqual(Object.keys(plain.body as object));
  });
});
