// The admin API over real HTTP with cookies: sign-in, CSRF, every route, and what it does to
// the relay's rows and streams.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { createSession, pairConversation } from '../pairing/index.js';
import { accounts, conversationMappings, sessions } from '../schema.js';
import { ConsoleClient } from '../test-support/console-client.js';
import { makeInbound, makeMapping, makeOutbound } from '../test-support/console-factories.js';
import { hashToken } from '../tokens.js';
import { openStream, queueMessage } from '../openclaw/test-fixtures.js';

const PASSWORD = 'admin-password-for-tests';

describe(`relay admin API (${target})`, () => {
  let t: TestServer;
  let admin: ConsoleClient;

  beforeAll(async () => {
    t = await startTestServer({ env: { TRUST_PROXY: 'true', ADMIN_PASSWORD: PASSWORD } });
    admin = new ConsoleClient(t.url);
    const login = await admin.post('/admin/api/login', { password: PASSWORD });
    expect(login.status).toBe(200);
  });
  afterAll(() => t?.stop());

  const db = () => t.server.store.db;
  const ctx = () => t.server.relay.context;

  it('signs in with the password: HttpOnly session cookie on /admin, readable CSRF cookie, only an HMAC stored', async () => {
    const client = new ConsoleClient(t.url);
    const wrong = await client.post('/admin/api/login', { password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const missing = await client.post('/admin/api/login', {});
    expect(missing.status).toBe(400);

    const ok = await client.post('/admin/api/login', { password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ success: true });
    const setCookies = ok.headers.getSetCookie();
    const session = setCookies.find((c) => c.startsWith('admin_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Path=\/admin/);
    expect(session).toMatch(/Max-Age=86400/);
    expect(session).not.toMatch(/Secure/);
    const csrf = setCookies.find((c) => c.startsWith('csrf_token='))!;
    expect(csrf).not.toMatch(/HttpOnly/i);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ok.headers.get('x-frame-options')).toBe('DENY');

    const token = client.cookie('admin_session', '/admin')!.value;
    const stored = rowsOf<{ token_hash: string }>(
      await db().execute(sql`select token_hash from relay.admin_sessions`),
    ).map((r) => r.token_hash);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(hashToken(token));

    expect((await client.get('/admin/api/stats')).status).toBe(200);
    // Without the header, and with a wrong one, a state-changing call is refused.
    const noHeader = await client.post('/admin/api/accounts', {}, { csrf: false });
    expect(noHeader.status).toBe(403);
    expect(noHeader.body.error.code).toBe('csrf_failed');
    const wrongHeader = await client.request(
      'POST',
      '/admin/api/accounts',
      {},
      {
        csrf: false,
        headers: { 'x-csrf-token': 'forged' },
      },
    );
    expect(wrongHeader.status).toBe(403);

    const logout = await client.post('/admin/api/logout');
    expect(logout.status).toBe(200);
    expect(client.cookie('admin_session', '/admin')).toBeUndefined();
    // The old cookie value is dead on the server too.
    client.setCookie('admin_session', token, '/admin');
    expect((await client.get('/admin/api/stats')).status).toBe(401);
  });

  it('refuses every route without a session (401) and forged sessions', async () => {
    const anonymous = new ConsoleClient(t.url);
    const routes: Array<[string, string]> = [
      ['GET', '/admin/api/stats'],
      ['GET', '/admin/api/accounts'],
      ['POST', '/admin/api/accounts'],
      ['GET', '/admin/api/accounts/00000000-0000-4000-8000-000000000000'],
      ['PATCH', '/admin/api/accounts/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/admin/api/accounts/00000000-0000-4000-8000-000000000000'],
      ['POST', '/admin/api/accounts/00000000-0000-4000-8000-000000000000/regenerate-token'],
      ['GET', '/admin/api/mappings'],
      ['DELETE', '/admin/api/mappings/00000000-0000-4000-8000-000000000000'],
      ['GET', '/admin/api/messages/inbound'],
      ['GET', '/admin/api/messages/outbound'],
      ['GET', '/admin/api/dead-letters'],
      ['GET', '/admin/api/sessions'],
      ['DELETE', '/admin/api/sessions/00000000-0000-4000-8000-000000000000'],
      ['POST', '/admin/api/sessions/00000000-0000-4000-8000-000000000000/disconnect'],
      ['GET', '/admin/api/users'],
      ['PATCH', '/admin/api/users/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/admin/api/users/00000000-0000-4000-8000-000000000000'],
      ['POST', '/admin/api/logout'],
    ];
    for (const [method, path] of routes) {
      const response = await anonymous.request(
        method,
        path,
        method === 'GET' || method === 'DELETE' ? undefined : {},
      );
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.body.error.code).toBe('unauthorized');
    }
    anonymous.setCookie('admin_session', 'f'.repeat(64), '/admin');
    expect((await anonymous.get('/admin/api/stats')).status).toBe(401);
  });

  it('limits sign-in to 5 a minute per IP with Retry-After', async () => {
    const client = new ConsoleClient(t.url);
    for (let i = 0; i < 5; i++) {
      expect((await client.post('/admin/api/login', { password: 'wrong' })).status).toBe(401);
    }
    const limited = await client.post('/admin/api/login', { password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('creates an account whose relay token is stored only as its SHA-256; regenerating replaces it', async () => {
    const created = await admin.post('/admin/api/accounts', {
      openclawUserId: 'owner-1',
      rateLimitPerMinute: 30,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      openclawUserId: 'owner-1',
      mode: 'relay',
      rateLimitPerMinute: 30,
      disabledAt: null,
    });
    const token: string = created.body.relayToken;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const [row] = await db().select().from(accounts).where(eq(accounts.id, created.body.id));
    expect(row!.relayTokenHash).toBe(hashToken(token));
    const plain = rowsOf(
      await db().execute(sql`select id from relay.accounts where relay_token_hash = ${token}`),
    );
    expect(plain).toHaveLength(0);

    const read = await admin.get(`/admin/api/accounts/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.relayToken).toBeUndefined();
    expect(read.body.pairedConversations).toBe(0);

    const regenerated = await admin.post(`/admin/api/accounts/${created.body.id}/regenerate-token`);
    expect(regenerated.status).toBe(200);
    const fresh: string = regenerated.body.relayToken;
    expect(fresh).not.toBe(token);
    const byOld = await db()
      .select()
      .from(accounts)
      .where(eq(accounts.relayTokenHash, hashToken(token)));
    expect(byOld).toHaveLength(0);
    const byNew = await db()
      .select()
      .from(accounts)
      .where(eq(accounts.relayTokenHash, hashToken(fresh)));
    expect(byNew.map((a) => a.id)).toEqual([created.body.id]);

    const invalid = await admin.post('/admin/api/accounts', { rateLimitPerMinute: 0 });
    expect(invalid.status).toBe(400);
    expect((await admin.get('/admin/api/accounts/not-a-uuid')).status).toBe(400);
    expect(
      (await admin.get('/admin/api/accounts/00000000-0000-4000-8000-000000000000')).status,
    ).toBe(404);
  });

  it('lists, changes, disables and enables accounts', async () => {
    const a = (await admin.post('/admin/api/accounts', { openclawUserId: 'list-a' })).body;
    const patched = await admin.patch(`/admin/api/accounts/${a.id}`, {
      rateLimitPerMinute: 120,
      openclawUserId: 'list-a2',
      disabled: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ rateLimitPerMinute: 120, openclawUserId: 'list-a2' });
    expect(patched.body.disabledAt).toEqual(expect.any(String));
    const disabled = await admin.get('/admin/api/accounts?disabled=true&limit=100');
    expect(disabled.body.items.map((i: { id: string }) => i.id)).toContain(a.id);
    const byOwner = await admin.get('/admin/api/accounts?openclawUserId=list-a2');
    expect(byOwner.body).toMatchObject({ total: 1, items: [{ id: a.id }] });
    const enabled = await admin.patch(`/admin/api/accounts/${a.id}`, { disabled: false });
    expect(enabled.body.disabledAt).toBeNull();
    const page = await admin.get('/admin/api/accounts?limit=1&offset=0');
    expect(page.body.items).toHaveLength(1);
    expect(page.body.total).toBeGreaterThanOrEqual(1);
    expect((await admin.patch(`/admin/api/accounts/${a.id}`, { unknown: 1 })).status).toBe(400);
  });

  it('ends the streams a rotated token or a disabled account opened, on any node', async () => {
    const created = await admin.post('/admin/api/accounts', { openclawUserId: 'streams' });
    const { id, relayToken } = created.body as { id: string; relayToken: string };
    const old = await openStream(t.url, relayToken);
    await old.eventsOf('connected', 1);
    const rotated = await admin.post(`/admin/api/accounts/${id}/regenerate-token`, {});
    expect(rotated.status).toBe(200);
    await old.ended();
    expect(old.events().map((e) => [e.event, e.data.code])).toEqual([
      ['connected', undefined],
      ['error', 'access_revoked'],
    ]);
    expect((await openStream(t.url, relayToken)).status).toBe(401);

    // A stream on the new token resumes past the revocation without being ended by it.
    const fresh = await openStream(t.url, rotated.body.relayToken as string, { lastEventId: '0' });
    await fresh.eventsOf('connected', 1);
    const message = await queueMessage(ctx(), id, { text: 'after rotation' });
    const [delivered] = await fresh.eventsOf('message', 1);
    expect(delivered!.data.id).toBe(message.id);
    expect(fresh.events().map((e) => e.event)).toEqual(['connected', 'message']);

    expect((await admin.patch(`/admin/api/accounts/${id}`, { disabled: true })).status).toBe(200);
    await fresh.ended();
    expect(fresh.events().at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'access_revoked' },
    });
    expect((await openStream(t.url, rotated.body.relayToken as string)).status).toBe(403);
  });

  it('deletes an account: its conversations are unpaired and its plugin session told', async () => {
    const session = await createSession(ctx());
    const conversation = {
      conversationKey: 'botdel:userdel',
      kakaoChannelId: 'botdel',
      plusfriendUserKey: 'userdel',
    };
    const outcome = await pairConversation(ctx(), conversation, session.pairingCode);
    expect(outcome.kind).toBe('paired');
    const accountId = (outcome as { accountId: string }).accountId;
    const deleted = await admin.delete(`/admin/api/accounts/${accountId}`);
    expect(deleted.status).toBe(200);
    expect((await admin.get(`/admin/api/accounts/${accountId}`)).status).toBe(404);
    const [mapping] = await db()
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, 'botdel:userdel'));
    expect(mapping).toMatchObject({ state: 'unpaired', accountId: null });
    const events = rowsOf<{ type: string; payload: { reason: string } }>(
      await db().execute(
        sql`select type, payload from core.outbox where topic = ${`relay.session.${session.sessionId}`} order by seq`,
      ),
    );
    expect(events.map((e) => e.type)).toEqual(['pairing_complete', 'pairing_expired']);
    expect(events[1]!.payload.reason).toBe('unpaired');
  });

  it('lists mappings by account and state; deleting one unpairs it and ends its session', async () => {
    const session = await createSession(ctx());
    const conversation = {
      conversationKey: 'botmap:usermap',
      kakaoChannelId: 'botmap',
      plusfriendUserKey: 'usermap',
    };
    const outcome = await pairConversation(ctx(), conversation, session.pairingCode);
    const accountId = (outcome as { accountId: string }).accountId;
    const listed = await admin.get(`/admin/api/mappings?accountId=${accountId}&state=paired`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      total: 1,
      items: [
        { conversationKey: 'botmap:usermap', state: 'paired', accountId, hasCallback: false },
      ],
    });
    expect(listed.body.items[0].lastCallbackUrl).toBeUndefined();
    expect((await admin.get('/admin/api/mappings?state=nonsense')).status).toBe(400);
    const none = await admin.get(
      '/admin/api/mappings?accountId=00000000-0000-4000-8000-000000000000',
    );
    expect(none.body).toEqual({ items: [], total: 0 });

    const removed = await admin.delete(`/admin/api/mappings/${listed.body.items[0].id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ success: true, unpaired: true });
    const [row] = await db().select().from(sessions).where(eq(sessions.id, session.sessionId));
    expect(row!.status).toBe('disconnected');
    const reasons = rowsOf<{ payload: { reason: string } }>(
      await db().execute(
        sql`select payload from core.outbox where topic = ${`relay.session.${session.sessionId}`} and type = 'pairing_expired'`,
      ),
    );
    expect(reasons.map((r) => r.payload.reason)).toEqual(['unpaired']);
    expect((await admin.delete(`/admin/api/mappings/${listed.body.items[0].id}`)).status).toBe(404);
  });

  it('pages inbound and outbound messages by cursor with filters; bad status or cursor is a 400', async () => {
    const account = (await admin.post('/admin/api/accounts', {})).body;
    const { conversationKey } = await makeMapping(db(), { accountId: account.id });
    const base = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await makeInbound(db(), {
          accountId: account.id,
          conversationKey,
          text: `m${i}`,
          status: i === 0 ? 'expired' : 'queued',
          createdAt: new Date(base + i * 1000),
        }),
      );
    }
    const first = await admin.get(`/admin/api/messages/inbound?accountId=${account.id}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((m: { text: string }) => m.text)).toEqual(['m4', 'm3']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await admin.get(
      `/admin/api/messages/inbound?accountId=${account.id}&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((m: { text: string }) => m.text)).toEqual(['m2', 'm1']);
    const third = await admin.get(
      `/admin/api/messages/inbound?accountId=${account.id}&limit=2&cursor=${second.body.nextCursor}`,
    );
    expect(third.body.items.map((m: { text: string }) => m.text)).toEqual(['m0']);
    expect(third.body.nextCursor).toBeNull();
    expect(third.body.items[0]).toMatchObject({
      status: 'expired',
      conversationKey,
      hasCallback: false,
    });
    expect(third.body.items[0].callbackUrl).toBeUndefined();

    const expired = await admin.get(
      `/admin/api/messages/inbound?accountId=${account.id}&status=expired`,
    );
    expect(expired.body.items.map((m: { id: string }) => m.id)).toEqual([ids[0]]);
    const byConversation = await admin.get(
      `/admin/api/messages/inbound?conversationKey=${encodeURIComponent(conversationKey)}`,
    );
    expect(byConversation.body.items).toHaveLength(5);

    expect((await admin.get('/admin/api/messages/inbound?status=failed')).status).toBe(400);
    expect((await admin.get('/admin/api/messages/outbound?status=queued')).status).toBe(400);
    expect((await admin.get('/admin/api/messages/inbound?cursor=garbage')).status).toBe(400);
    expect((await admin.get('/admin/api/messages/inbound?limit=101')).status).toBe(400);
    expect((await admin.get('/admin/api/messages/inbound?accountId=nope')).status).toBe(400);

    await makeOutbound(db(), {
      accountId: account.id,
      conversationKey,
      text: 'ok',
      status: 'sent',
    });
    await makeOutbound(db(), {
      accountId: account.id,
      conversationKey,
      text: 'bad',
      status: 'failed',
      errorMessage: 'Kakao said FAIL',
    });
    const failed = await admin.get(
      `/admin/api/messages/outbound?accountId=${account.id}&status=failed`,
    );
    expect(failed.body.items).toHaveLength(1);
    expect(failed.body.items[0]).toMatchObject({
      status: 'failed',
      text: 'bad',
      errorMessage: 'Kakao said FAIL',
    });
    const empty = await admin.get(
      '/admin/api/messages/outbound?accountId=00000000-0000-4000-8000-000000000000',
    );
    expect(empty.body).toEqual({ items: [], nextCursor: null });
  });

  it('lists dead letters newest first: failed replies, expired messages and relay outbox dead letters', async () => {
    const account = (await admin.post('/admin/api/accounts', {})).body;
    const { conversationKey } = await makeMapping(db(), { accountId: account.id });
    const now = Date.now();
    const inboundId = await makeInbound(db(), {
      accountId: account.id,
      conversationKey,
      status: 'expired',
      text: 'late',
      createdAt: new Date(now - 3000),
    });
    const outboundId = await makeOutbound(db(), {
      accountId: account.id,
      conversationKey,
      status: 'failed',
      errorMessage: 'timeout',
      createdAt: new Date(now - 2000),
    });
    await db().execute(sql`
      with events as (
        insert into core.outbox (type, topic, seq, payload, created_at)
        values ('message', ${`relay.account.${account.id}`}, 999, '{}'::jsonb, ${new Date(now - 1000).toISOString()}::timestamptz),
               ('chat.x', 'chat.channel.elsewhere', 999, '{}'::jsonb, now())
        returning id, type
      )
      insert into core.outbox_work (event_id, pending, retry_count, error, dead_lettered_at)
      select id, '{realtime}', 10, case when type = 'message' then 'broker down' else 'not mine' end,
        now()
      from events`);
    const all: Array<{ kind: string; id: string; topic: string | null }> = [];
    let cursor: string | null = null;
    do {
      const page = await admin.get(
        `/admin/api/dead-letters?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && all.length < 50);
    const mine = all.filter(
      (d) => d.id === inboundId || d.id === outboundId || d.topic === `relay.account.${account.id}`,
    );
    expect(mine.map((d) => d.kind)).toEqual(['outbox', 'outbound', 'inbound']);
    expect(all.some((d) => d.topic === 'chat.channel.elsewhere')).toBe(false);
    expect((await admin.get('/admin/api/dead-letters?cursor=bad')).status).toBe(400);
  });

  it('lists sessions by status; disconnecting a pending one tells its stream; deleting removes it', async () => {
    const pending = await createSession(ctx());
    const listed = await admin.get('/admin/api/sessions?status=pending_pairing&limit=100');
    expect(listed.status).toBe(200);
    const item = listed.body.items.find((s: { id: string }) => s.id === pending.sessionId);
    expect(item).toMatchObject({ status: 'pending_pairing', pairingCode: pending.pairingCode });
    expect((await admin.get('/admin/api/sessions?status=bogus')).status).toBe(400);

    const disconnected = await admin.post(`/admin/api/sessions/${pending.sessionId}/disconnect`);
    expect(disconnected.status).toBe(200);
    expect(disconnected.body).toMatchObject({
      id: pending.sessionId,
      status: 'disconnected',
      pairingCode: null,
    });
    const events = rowsOf<{ type: string; payload: { reason: string } }>(
      await db().execute(
        sql`select type, payload from core.outbox where topic = ${`relay.session.${pending.sessionId}`}`,
      ),
    );
    expect(events).toEqual([{ type: 'pairing_expired', payload: { reason: 'disconnected' } }]);

    const paired = await createSession(ctx());
    const outcome = await pairConversation(
      ctx(),
      { conversationKey: 'botses:userses', kakaoChannelId: 'botses', plusfriendUserKey: 'userses' },
      paired.pairingCode,
    );
    expect(outcome.kind).toBe('paired');
    expect(
      (await admin.post(`/admin/api/sessions/${paired.sessionId}/disconnect`)).body.status,
    ).toBe('disconnected');
    const [mapping] = await db()
      .select()
      .from(conversationMappings)
      .where(eq(conversationMappings.conversationKey, 'botses:userses'));
    expect(mapping!.state).toBe('unpaired');
    const pairedEvents = rowsOf<{ type: string; payload: { reason?: string } }>(
      await db().execute(
        sql`select type, payload from core.outbox where topic = ${`relay.session.${paired.sessionId}`} order by seq`,
      ),
    );
    expect(pairedEvents.map((e) => [e.type, e.payload.reason])).toEqual([
      ['pairing_complete', undefined],
      ['pairing_expired', 'disconnected'],
    ]);

    expect((await admin.delete(`/admin/api/sessions/${paired.sessionId}`)).status).toBe(200);
    expect(
      await db().select().from(sessions).where(eq(sessions.id, paired.sessionId)),
    ).toHaveLength(0);
    expect((await admin.delete(`/admin/api/sessions/${paired.sessionId}`)).status).toBe(404);
  });

  it('fills the stats from the tables', async () => {
    const before = (await admin.get('/admin/api/stats')).body;
    const account = (await admin.post('/admin/api/accounts', {})).body;
    const { conversationKey } = await makeMapping(db(), { accountId: account.id });
    await makeInbound(db(), { accountId: account.id, conversationKey });
    await makeInbound(db(), {
      accountId: account.id,
      conversationKey,
      createdAt: new Date(Date.now() - 3 * 86_400_000),
      status: 'acked',
    });
    await makeOutbound(db(), { accountId: account.id, conversationKey, status: 'failed' });
    await createSession(ctx());
    const after = (await admin.get('/admin/api/stats')).body;
    expect(after.accounts - before.accounts).toBe(1);
    expect(after.mappings - before.mappings).toBe(1);
    expect(after.sessions.pending - before.sessions.pending).toBe(1);
    expect(after.sessions.total - before.sessions.total).toBe(1);
    expect(after.messages.inbound.week - before.messages.inbound.week).toBe(2);
    expect(after.messages.inbound.queued - before.messages.inbound.queued).toBe(1);
    expect(after.messages.outbound.today - before.messages.outbound.today).toBe(1);
    expect(after.messages.outbound.failed - before.messages.outbound.failed).toBe(1);
    expect(after.messages.inbound.today).toBeGreaterThanOrEqual(1);
  });

  it('manages portal users: list, reset password (signs them out), delete', async () => {
    const owner = new ConsoleClient(t.url);
    const email = `admin-managed-${Date.now()}@example.com`;
    expect(
      (await owner.post('/portal/api/signup', { email, password: 'first-password' })).status,
    ).toBe(201);
    const listed = await admin.get(`/admin/api/users?email=${encodeURIComponent(email)}`);
    expect(listed.body).toMatchObject({ total: 1, items: [{ email, accountDisabled: false }] });
    const id: string = listed.body.items[0].id;
    expect(listed.body.items[0].passwordHash).toBeUndefined();

    const reset = await admin.patch(`/admin/api/users/${id}`, { password: 'second-password' });
    expect(reset.status).toBe(200);
    expect((await owner.get('/portal/api/me')).status).toBe(401);
    const again = new ConsoleClient(t.url);
    expect(
      (await again.post('/portal/api/login', { email, password: 'second-password' })).status,
    ).toBe(200);
    expect((await admin.patch(`/admin/api/users/${id}`, { password: 'short' })).status).toBe(400);

    expect((await admin.delete(`/admin/api/users/${id}`)).status).toBe(200);
    expect((await again.get('/portal/api/me')).status).toBe(401);
    expect((await admin.delete(`/admin/api/users/${id}`)).status).toBe(404);
    expect((await admin.get('/admin/api/users?email=nobody-matches-this')).body).toEqual({
      items: [],
      total: 0,
    });
  });

  it('answers unknown API paths with a JSON 404, never the console page', async () => {
    const unknown = await admin.get('/admin/api/does-not-exist');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const unknownPost = await admin.post('/admin/api/nope/deeper', {});
    expect(unknownPost.status).toBe(404);
    expect(unknownPost.body.error.code).toBe('not_found');
  });
});
