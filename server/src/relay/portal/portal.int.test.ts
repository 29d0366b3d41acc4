// The portal API over real HTTP with cookies: owners' sign-up and sign-in, their account's
// routes, tenant isolation between owners, and the read-only access-code sessions.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { accounts, conversationMappings, portalUsers } from '../schema.js';
import { ConsoleClient } from '../test-support/console-client.js';
import {
  makeAccessCode,
  makeInbound,
  makeMapping,
  makeOutbound,
} from '../test-support/console-factories.js';
import { hashToken, newCode } from '../tokens.js';

let emails = 0;
const newEmail = (name: string) =>
  `${name}-${Date.now().toString(36)}-${(emails += 1)}@Example.com`;

interface Owner {
  client: ConsoleClient;
  email: string;
  accountId: string;
  userId: string;
  relayToken: string;
}

describe(`relay portal API (${target})`, () => {
  let t: TestServer;
  const db = () => t.server.store.db;

  beforeAll(async () => {
    t = await startTestServer({ env: { TRUST_PROXY: 'true' } });
  });
  afterAll(() => t?.stop());

  async function signUp(name: string): Promise<Owner> {
    const client = new ConsoleClient(t.url);
    const email = newEmail(name);
    const response = await client.post('/portal/api/signup', { email, password: 'long enough' });
    expect(response.status).toBe(201);
    return {
      client,
      email: email.toLowerCase(),
      accountId: response.body.user.accountId,
      userId: response.body.user.id,
      relayToken: response.body.relayToken,
    };
  }

  it('signs up: account with a hashed relay token, argon2id password, 7-day session on /portal', async () => {
    const client = new ConsoleClient(t.url);
    const email = newEmail('signup');
    const short = await client.post('/portal/api/signup', { email, password: 'short' });
    expect(short.status).toBe(400);
    const bad = await client.post('/portal/api/signup', {
      email: 'not-an-email',
      password: 'long enough',
    });
    expect(bad.status).toBe(400);

    const created = await client.post('/portal/api/signup', { email, password: 'long enough' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, user: { email: email.toLowerCase() } });
    const session = created.headers.getSetCookie().find((c) => c.startsWith('portal_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/Path=\/portal/);
    expect(session).toMatch(/Max-Age=604800/);
    const [user] = await db()
      .select()
      .from(portalUsers)
      .where(eq(portalUsers.id, created.body.user.id));
    expect(user!.passwordHash).toMatch(/^\$argon2id\$/);
    const [account] = await db().select().from(accounts).where(eq(accounts.id, user!.accountId));
    expect(account!.relayTokenHash).toBe(hashToken(created.body.relayToken));

    const me = await client.get('/portal/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: {
        id: user!.id,
        email: email.toLowerCase(),
        accountId: user!.accountId,
        createdAt: expect.any(String),
      },
    });

    const taken = await new ConsoleClient(t.url).post('/portal/api/signup', {
      email: email.toUpperCase(),
      password: 'long enough',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('email_taken');
  });

  it('signs in and out; wrong passwords and unknown emails are the same 401', async () => {
    const owner = await signUp('login');
    const client = new ConsoleClient(t.url);
    const wrong = await client.post('/portal/api/login', {
      email: owner.email,
      password: 'wrong password',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const unknown = await client.post('/portal/api/login', {
      email: newEmail('nobody'),
      password: 'whatever1',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);

    const ok = await client.post('/portal/api/login', {
      email: owner.email.toUpperCase(),
      password: 'long enough',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(owner.userId);
    expect((await client.get('/portal/api/me')).status).toBe(200);
    expect((await client.post('/portal/api/logout', {}, { csrf: false })).status).toBe(403);
    expect((await client.post('/portal/api/logout')).status).toBe(200);
    expect((await client.get('/portal/api/me')).status).toBe(401);
  });

  it('limits sign-in per email (5 a minute) and per IP, with Retry-After', async () => {
    const owner = await signUp('limited');
    for (let i = 0; i < 5; i++) {
      const client = new ConsoleClient(t.url);
      expect(
        (await client.post('/portal/api/login', { email: owner.email, password: 'wrong password' }))
          .status,
      ).toBe(401);
    }
    const limited = await new ConsoleClient(t.url).post('/portal/api/login', {
      email: owner.email,
      password: 'long enough',
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const oneIp = new ConsoleClient(t.url);
    let status = 0;
    for (let i = 0; i < 21 && status !== 429; i++) {
      status = (
        await oneIp.post('/portal/api/login', { email: newEmail(`ip${i}`), password: 'whatever1' })
      ).status;
    }
    expect(status).toBe(429);
  });

  it('issues pairing codes, shows the token date and regenerates the token', async () => {
    const owner = await signUp('pairing');
    const issued = await owner.client.post('/portal/api/pairing/generate', { expirySeconds: 120 });
    expect(issued.status).toBe(200);
    expect(issued.body.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const lifetime = Date.parse(issued.body.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(100_000);
    expect(lifetime).toBeLessThanOrEqual(120_000);
    for (let i = 0; i < 4; i++) {
      expect((await owner.client.post('/portal/api/pairing/generate', {})).status).toBe(200);
    }
    const sixth = await owner.client.post('/portal/api/pairing/generate', {});
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('too_many_pairing_codes');
    expect(
      (await owner.client.post('/portal/api/pairing/generate', {}, { csrf: false })).status,
    ).toBe(403);

    const token = await owner.client.get('/portal/api/token');
    expect(token.body).toMatchObject({ hasToken: true, createdAt: expect.any(String) });
    expect(JSON.stringify(token.body)).not.toContain(owner.relayToken);
    const regenerated = await owner.client.post('/portal/api/token/regenerate');
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.token).toMatch(/^[0-9a-f]{64}$/);
    const [account] = await db().select().from(accounts).where(eq(accounts.id, owner.accountId));
    expect(account!.relayTokenHash).toBe(hashToken(regenerated.body.token));
  });

  it('lists, blocks, unblocks and unpairs connections; stats and messages are the account own', async () => {
    const owner = await signUp('connections');
    const a = await makeMapping(db(), { accountId: owner.accountId });
    const b = await makeMapping(db(), { accountId: owner.accountId });
    await makeMapping(db(), { accountId: owner.accountId, state: 'unpaired' });
    await makeInbound(db(), {
      accountId: owner.accountId,
      conversationKey: a.conversationKey,
      text: 'hi there',
    });
    await makeInbound(db(), {
      accountId: owner.accountId,
      conversationKey: a.conversationKey,
      text: 'old',
      status: 'expired',
    });
    await makeOutbound(db(), {
      accountId: owner.accountId,
      conversationKey: a.conversationKey,
      text: 'answer',
    });
    await makeOutbound(db(), {
      accountId: owner.accountId,
      conversationKey: b.conversationKey,
      text: 'lost',
      status: 'failed',
      errorMessage: 'callback expired',
    });

    const listed = await owner.client.get('/portal/api/connections');
    expect(listed.status).toBe(200);
    expect(listed.body.total).toBe(2);
    expect(
      listed.body.connections.map((c: { conversationKey: string }) => c.conversationKey).sort(),
    ).toEqual([a.conversationKey, b.conversationKey].sort());

    const key = encodeURIComponent(a.conversationKey);
    const blocked = await owner.client.patch(`/portal/api/connections/${key}/block`);
    expect(blocked.body).toEqual({ success: true, state: 'blocked' });
    const unblocked = await owner.client.patch(`/portal/api/connections/${key}/block`);
    expect(unblocked.body).toEqual({ success: true, state: 'paired' });

    const stats = await owner.client.get('/portal/api/stats');
    expect(stats.body).toMatchObject({
      connections: { total: 2, paired: 2, blocked: 0 },
      messages: {
        inbound: { today: 2, total: 2, queued: 1, expired: 1 },
        outbound: { today: 2, todayFailed: 1, total: 2, sent: 1, failed: 1 },
      },
      recentErrors: [{ conversationKey: b.conversationKey, errorMessage: 'callback expired' }],
      lastActivity: expect.any(String),
    });

    const inbound = await owner.client.get('/portal/api/messages?type=inbound&limit=1');
    expect(inbound.body.messages).toHaveLength(1);
    expect(inbound.body.hasMore).toBe(true);
    const rest = await owner.client.get(
      `/portal/api/messages?type=inbound&limit=1&cursor=${inbound.body.nextCursor}`,
    );
    expect(rest.body.hasMore).toBe(false);
    expect([inbound.body.messages[0].content, rest.body.messages[0].content].sort()).toEqual([
      'hi there',
      'old',
    ]);
    const outbound = await owner.client.get('/portal/api/messages?type=outbound');
    expect(
      outbound.body.messages
        .map((m: { content: string; direction: string }) => [m.direction, m.content])
        .sort(),
    ).toEqual([
      ['outbound', 'answer'],
      ['outbound', 'lost'],
    ]);
    expect((await owner.client.get('/portal/api/messages?type=sideways')).status).toBe(400);

    const unpaired = await owner.client.post(`/portal/api/connections/${key}/unpair`);
    expect(unpaired.body).toEqual({ success: true });
    const [row] = await db()
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, a.conversationKey));
    expect(row).toMatchObject({ state: 'unpaired', accountId: null });
    expect((await owner.client.post(`/portal/api/connections/${key}/unpair`)).status).toBe(404);
    expect((await owner.client.get('/portal/api/connections')).body.total).toBe(1);
  });

  it('keeps owners apart: B never sees or touches A connections or messages', async () => {
    const a = await signUp('tenant-a');
    const b = await signUp('tenant-b');
    const mapping = await makeMapping(db(), { accountId: a.accountId });
    await makeInbound(db(), {
      accountId: a.accountId,
      conversationKey: mapping.conversationKey,
      text: 'secret of A',
    });
    await makeOutbound(db(), {
      accountId: a.accountId,
      conversationKey: mapping.conversationKey,
      text: 'reply of A',
    });
    const key = encodeURIComponent(mapping.conversationKey);

    expect((await b.client.get('/portal/api/connections')).body).toEqual({
      connections: [],
      total: 0,
    });
    expect((await b.client.get('/portal/api/messages?type=inbound')).body.messages).toEqual([]);
    expect((await b.client.get('/portal/api/messages?type=outbound')).body.messages).toEqual([]);
    const blockAttempt = await b.client.patch(`/portal/api/connections/${key}/block`);
    expect(blockAttempt.status).toBe(404);
    const unpairAttempt = await b.client.post(`/portal/api/connections/${key}/unpair`);
    expect(unpairAttempt.status).toBe(404);
    const statsB = (await b.client.get('/portal/api/stats')).body;
    expect(statsB.messages.inbound.total).toBe(0);

    const [row] = await db()
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.id, mapping.id));
    expect(row).toMatchObject({ state: 'paired', accountId: a.accountId });
    expect(
      (await a.client.get('/portal/api/messages')).body.messages.map(
        (m: { content: string }) => m.content,
      ),
    ).toEqual(['secret of A']);
  });

  it('opens a read-only session for one conversation with a /code access code, once', async () => {
    const owner = await signUp('code-owner');
    const mine = await makeMapping(db(), { accountId: owner.accountId });
    const other = await makeMapping(db(), { accountId: owner.accountId });
    await makeInbound(db(), {
      accountId: owner.accountId,
      conversationKey: mine.conversationKey,
      text: 'my words',
    });
    await makeOutbound(db(), {
      accountId: owner.accountId,
      conversationKey: mine.conversationKey,
      text: 'agent words',
    });
    await makeInbound(db(), {
      accountId: owner.accountId,
      conversationKey: other.conversationKey,
      text: 'not mine',
    });
    const code = newCode();
    await makeAccessCode(db(), {
      conversationKey: mine.conversationKey,
      code,
      secret: t.config.PORTAL_SESSION_SECRET,
    });

    const visitor = new ConsoleClient(t.url);
    expect((await visitor.get('/portal/api/code/stats')).status).toBe(401);
    const opened = await visitor.post('/portal/api/auth/code', {
      code: code.toLowerCase().replace('-', ''),
    });
    expect(opened.status).toBe(200);
    expect(opened.body).toEqual({ success: true, conversationKey: mine.conversationKey });
    const cookie = opened.headers.getSetCookie().find((c) => c.startsWith('portal_session='))!;
    expect(cookie).toMatch(/Max-Age=1800/);
    const stored = rowsOf<{ conversation_key: string; user_id: string | null }>(
      await db().execute(
        sql`select conversation_key, user_id from relay.portal_sessions where conversation_key = ${mine.conversationKey}`,
      ),
    );
    expect(stored).toEqual([{ conversation_key: mine.conversationKey, user_id: null }]);

    const stats = await visitor.get('/portal/api/code/stats');
    expect(stats.body).toMatchObject({
      conversationKey: mine.conversationKey,
      state: 'paired',
      messages: { inbound: { total: 1 }, outbound: { total: 1 } },
    });
    const inbound = await visitor.get('/portal/api/code/messages?type=inbound');
    expect(inbound.body.messages.map((m: { content: string }) => m.content)).toEqual(['my words']);
    const outbound = await visitor.get('/portal/api/code/messages?type=outbound');
    expect(outbound.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'agent words',
    ]);

    // Read-only: no owner routes for a code session, and no code routes for an owner.
    for (const [method, path] of [
      ['GET', '/portal/api/me'],
      ['GET', '/portal/api/connections'],
      ['GET', '/portal/api/messages'],
      ['POST', '/portal/api/pairing/generate'],
      ['POST', '/portal/api/token/regenerate'],
    ] as const) {
      expect(
        (await visitor.request(method, path, method === 'POST' ? {} : undefined)).status,
        path,
      ).toBe(403);
    }
    expect((await owner.client.get('/portal/api/code/stats')).status).toBe(403);

    const reused = await new ConsoleClient(t.url).post('/portal/api/auth/code', { code });
    expect(reused.status).toBe(401);
    const expiredCode = newCode();
    await makeAccessCode(db(), {
      conversationKey: mine.conversationKey,
      code: expiredCode,
      secret: t.config.PORTAL_SESSION_SECRET,
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(
      (await new ConsoleClient(t.url).post('/portal/api/auth/code', { code: expiredCode })).status,
    ).toBe(401);
    expect((await visitor.post('/portal/api/logout')).status).toBe(200);
    expect((await visitor.get('/portal/api/code/stats')).status).toBe(401);
  });

  it('limits access-code sign-in to 5 a minute per IP', async () => {
    const client = new ConsoleClient(t.url);
    for (let i = 0; i < 5; i++) {
      expect((await client.post('/portal/api/auth/code', { code: 'AAAA-AAAA' })).status).toBe(401);
    }
    const limited = await client.post('/portal/api/auth/code', { code: 'AAAA-AAAA' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('needs a session on every owner route', async () => {
    const anonymous = new ConsoleClient(t.url);
    for (const [method, path] of [
      ['GET', '/portal/api/me'],
      ['GET', '/portal/api/stats'],
      ['POST', '/portal/api/pairing/generate'],
      ['GET', '/portal/api/connections'],
      ['POST', '/portal/api/connections/a:b/unpair'],
      ['PATCH', '/portal/api/connections/a:b/block'],
      ['GET', '/portal/api/token'],
      ['POST', '/portal/api/token/regenerate'],
      ['GET', '/portal/api/messages'],
      ['POST', '/portal/api/logout'],
      ['GET', '/portal/api/code/messages'],
    ] as const) {
      const response = await anonymous.request(method, path, method === 'GET' ? undefined : {});
      expect(response.status, path).toBe(401);
    }
    expect((await anonymous.get('/portal/api/nothing-here')).status).toBe(404);
  });
});
