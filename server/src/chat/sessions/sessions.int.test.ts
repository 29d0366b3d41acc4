// The seed 003 session aliases over HTTP: create (a DM, found again for the same people), list
// (my conversations with unread state), messages (history), search; who may see what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeChatUser, type ChatTestUser } from '../test-support/api.js';
import { makeChannel, makeWorkspace } from '../test-support/factories.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';

describe(`chat session aliases (${target})`, () => {
  let t: TestServer;
  let amy: ChatTestUser;
  let bo: ChatTestUser;
  let cy: ChatTestUser;
  let outsider: ChatTestUser;
  let workspaceId: string;
  let channelId: string;
  let sessionId: string;

  beforeAll(async () => {
    t = await startTestServer();
    [amy, bo, cy, outsider] = await Promise.all([
      makeChatUser(t.server, 'amy'),
      makeChatUser(t.server, 'bo'),
      makeChatUser(t.server, 'cy'),
      makeChatUser(t.server, 'outsider'),
    ]);
    const ws = await makeWorkspace(t.server.store.db, { owner: amy.id, members: [bo.id, cy.id] });
    await makeWorkspace(t.server.store.db, { owner: outsider.id });
    workspaceId = ws.id;
    channelId = (
      await makeChannel(t.server.store.db, {
        workspaceId,
        name: 'lobby',
        members: [amy.id, bo.id, cy.id],
      })
    ).id;
  }, 60_000);
  afterAll(() => t?.stop());

  it('creates a DM session, and finds the same one again', async () => {
    const created = await amy.call('POST', '/api/v1/session/create', { userIds: [bo.id] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ kind: 'dm', workspaceId, members: [{ id: bo.id }] });
    sessionId = created.body.id;
    const again = await bo.call('POST', '/api/v1/session/create', {
      userIds: [amy.id],
      workspaceId,
    });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(sessionId);
    const group = await amy.call('POST', '/api/v1/session/create', { userIds: [bo.id, cy.id] });
    expect(group.body).toMatchObject({ kind: 'group_dm' });
    // Someone with no shared workspace cannot be reached (nor probed).
    const stranger = await amy.call('POST', '/api/v1/session/create', { userIds: [outsider.id] });
    expect(stranger.status).toBe(404);
    expect((await amy.call('POST', '/api/v1/session/create', { userIds: [] })).status).toBe(400);
  });

  it('lists my conversations with unread state, newest activity first', async () => {
    const sent = await bo.call('POST', `/api/v1/channels/${sessionId}/messages`, {
      body: 'hello amy, the quarterly numbers are in',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const list = await amy.call('GET', '/api/v1/session/list');
    expect(list.status).toBe(200);
    const ids = list.body.items.map((item: { id: string }) => item.id);
    expect(ids[0]).toBe(sessionId);
    expect(ids).toContain(channelId);
    expect(list.body.items[0]).toMatchObject({ kind: 'dm', unread: true, member: true });
    expect(list.body.nextCursor).toBeNull();
    const paged = await amy.call('GET', '/api/v1/session/list?limit=1');
    expect(paged.body.items).toHaveLength(1);
    const rest = await amy.call(
      'GET',
      `/api/v1/session/list?limit=10&cursor=${paged.body.nextCursor}`,
    );
    expect([paged.body.items[0].id, ...rest.body.items.map((i: { id: string }) => i.id)]).toEqual(
      ids,
    );
    const outsiders = await outsider.call('GET', '/api/v1/session/list');
    expect(outsiders.body.items).toEqual([]);
  });

  it('reads a session’s messages, for its members only', async () => {
    const history = await amy.call('GET', `/api/v1/session/messages?session_id=${sessionId}`);
    expect(history.status, JSON.stringify(history.body)).toBe(200);
    expect(history.body.items.map((m: { body: string }) => m.body)).toEqual([
      'hello amy, the quarterly numbers are in',
    ]);
    expect((await cy.call('GET', `/api/v1/session/messages?session_id=${sessionId}`)).status).toBe(
      404,
    );
    expect(
      (await outsider.call('GET', `/api/v1/session/messages?session_id=${channelId}`)).status,
    ).toBe(404);
    expect((await amy.call('GET', '/api/v1/session/messages')).status).toBe(400);
  });

  it('searches, optionally within one session', async () => {
    const all = await amy.call('GET', '/api/v1/session/search?q=quarterly');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(1);
    expect(all.body.items[0].snippet).toContain('<mark>quarterly</mark>');
    const within = await amy.call(
      'GET',
      `/api/v1/session/search?q=quarterly&session_id=${channelId}`,
    );
    expect(within.body.items).toEqual([]);
    expect((await cy.call('GET', '/api/v1/session/search?q=quarterly')).body.items).toEqual([]);
  });

  it('refuses anonymous callers', async () => {
    for (const [method, url] of [
      ['POST', '/api/v1/session/create'],
      ['GET', '/api/v1/session/list'],
      ['GET', `/api/v1/session/messages?session_id=${sessionId}`],
      ['GET', '/api/v1/session/search?q=x'],
    ] as const) {
      const response = await t.server.app.inject({ method, url });
      expect(response.statusCode, url).toBe(401);
    }
  });
});
