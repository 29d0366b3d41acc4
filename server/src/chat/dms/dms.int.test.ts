// DMs over HTTP: found or created by member set (also when two open it at once), listed with
// the other members and exact unread counts, and closed to everyone outside them.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { newId } from '../ids.js';
import { callApi, makeChatUser, type ChatTestUser } from '../test-support/api.js';

const run = Math.random().toString(36).slice(2, 8);

describe(`chat DMs (${target})`, () => {
  let t: TestServer;
  let ann: ChatTestUser;
  let ben: ChatTestUser;
  let cat: ChatTestUser;
  let outsider: ChatTestUser;
  let workspaceId: string;
  let otherWorkspaceId: string;

  beforeAll(async () => {
    t = await startTestServer();
    const make = (name: string) => makeChatUser(t.server, name);
    [ann, ben, cat, outsider] = await Promise.all([
      make('ann'),
      make('ben'),
      make('cat'),
      make('outsider'),
    ]);
    workspaceId = (await ann.call('POST', '/api/v1/workspaces', { name: `DM ${run}` })).body.id;
    for (const user of [ben, cat]) {
      const invite = await ann.call('POST', `/api/v1/workspaces/${workspaceId}/invites`, {});
      await user.call('POST', '/api/v1/invites/accept', { code: invite.body.code });
    }
    otherWorkspaceId = (await outsider.call('POST', '/api/v1/workspaces', { name: `O ${run}` }))
      .body.id;
  });
  afterAll(() => t?.stop());

  const open = (user: ChatTestUser, userIds: string[], ws = workspaceId) =>
    user.call('POST', '/api/v1/dm', { workspaceId: ws, userIds });

  it('finds or creates the DM of a member set, 1:1 or group', async () => {
    expect(
      (await callApi(t.server, 'POST', '/api/v1/dm', { workspaceId, userIds: [ben.id] })).status,
    ).toBe(401);
    const first = await open(ann, [ben.id]);
    expect(first).toMatchObject({
      status: 201,
      body: {
        kind: 'dm',
        name: null,
        workspaceId,
        memberCount: 2,
        member: true,
        unreadCount: 0,
        members: [{ id: ben.id, username: ben.username }],
      },
    });
    const again = await open(ann, [ben.id, ann.id, ben.id]);
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
    const fromBen = await open(ben, [ann.id]);
    expect(fromBen).toMatchObject({
      status: 200,
      body: { id: first.body.id, members: [{ id: ann.id }] },
    });

    const group = await open(ben, [cat.id, ann.id]);
    expect(group).toMatchObject({ status: 201, body: { kind: 'group_dm', memberCount: 3 } });
    expect(group.body.members.map((m: { id: string }) => m.id).sort()).toEqual(
      [ann.id, cat.id].sort(),
    );
    expect((await open(cat, [ann.id, ben.id])).body.id).toBe(group.body.id);
    const events = rowsOf<{ type: string }>(
      await t.server.store.db.execute(
        sql`select type from core.outbox where topic = ${`chat.channel.${group.body.id}`} order by seq`,
      ),
    );
    expect(events.map((e) => e.type)).toEqual([
      'channel.created',
      'member.joined',
      'member.joined',
      'member.joined',
    ]);
  });

  it('validates the member set and keeps other workspaces out', async () => {
    expect((await open(ann, [])).status).toBe(400);
    expect((await open(ann, [ann.id])).status).toBe(400);
    expect((await open(ann, ['not-a-uuid'])).status).toBe(400);
    const eight = Array.from({ length: 8 }, () => newId());
    expect((await open(ann, eight)).status).toBe(400);
    expect((await ann.call('POST', '/api/v1/dm', { userIds: [ben.id] })).status).toBe(400);
    expect((await open(ann, [outsider.id])).status).toBe(404);
    expect((await open(ann, [newId()])).status).toBe(404);
    expect((await open(outsider, [ann.id])).status).toBe(404);
    expect((await open(ann, [outsider.id], otherWorkspaceId)).status).toBe(404);
  });

  it('ends with one channel when two people open the same DM at once', async () => {
    const [a, b] = await Promise.all([open(cat, [ben.id]), open(ben, [cat.id])]);
    expect(a.body.id).toBe(b.body.id);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    const key = [ben.id, cat.id].sort().join(',');
    const rows = rowsOf<{ n: number }>(
      await t.server.store.db.execute(
        sql`select count(*)::int as n from chat.channels where dm_key = ${key}`,
      ),
    );
    expect(rows[0]!.n).toBe(1);
    const members = rowsOf<{ n: number }>(
      await t.server.store.db.execute(
        sql`select count(*)::int as n from chat.channel_members where channel_id = ${a.body.id}`,
      ),
    );
    expect(members[0]!.n).toBe(2);
  });

  it('lists my DMs with the other members and exact unread counts', async () => {
    const dm = (await open(ann, [ben.id])).body;
    // Messages from ann: two roots and a reply (which does not count), written as the messages
    // area writes them.
    const root = newId();
    await t.server.store.db.execute(sql`
      insert into chat.messages (id, channel_id, seq, author_id, thread_root_id, body) values
        (${root}, ${dm.id}, 1001, ${ann.id}, null, 'one'),
        (${newId()}, ${dm.id}, 1002, ${ann.id}, null, 'two'),
        (${newId()}, ${dm.id}, 1003, ${ann.id}, ${root}, 'reply')`);
    await t.server.store.db.execute(
      sql`update chat.channels set last_message_seq = 1002, last_message_at = now() where id = ${dm.id}`,
    );

    const bens = await ben.call('GET', `/api/v1/dm?workspaceId=${workspaceId}`);
    expect(bens.status).toBe(200);
    expect(bens.body.items[0]).toMatchObject({
      id: dm.id,
      unread: true,
      unreadCount: 2,
      lastMessageSeq: 1002,
      members: [{ id: ann.id }],
    });
    expect(bens.body.items.length).toBeGreaterThanOrEqual(3);
    const anns = await ann.call('GET', `/api/v1/dm?workspaceId=${workspaceId}`);
    expect(anns.body.items.find((d: { id: string }) => d.id === dm.id)).toMatchObject({
      unreadCount: 0,
    });

    const page1 = await ben.call('GET', `/api/v1/dm?workspaceId=${workspaceId}&limit=1`);
    const page2 = await ben.call(
      'GET',
      `/api/v1/dm?workspaceId=${workspaceId}&limit=1&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items[0].id).not.toBe(page1.body.items[0].id);

    expect((await ben.call('GET', `/api/v1/dm/${dm.id}`)).body).toMatchObject({ unreadCount: 2 });
    expect((await cat.call('GET', `/api/v1/dm/${dm.id}`)).status).toBe(404);
    expect((await outsider.call('GET', `/api/v1/dm/${dm.id}`)).status).toBe(404);
    expect((await ben.call('GET', `/api/v1/dm/not-a-uuid`)).status).toBe(404);
    expect((await outsider.call('GET', `/api/v1/dm?workspaceId=${workspaceId}`)).status).toBe(404);
    expect((await ben.call('GET', '/api/v1/dm')).status).toBe(400);
    expect((await callApi(t.server, 'GET', `/api/v1/dm/${dm.id}`)).status).toBe(401);
    const general = (await ann.call('GET', `/api/v1/workspaces/${workspaceId}/channels`)).body
      .items[0].id;
    expect((await ann.call('GET', `/api/v1/dm/${general}`)).status).toBe(404);
  });

  it('keeps DMs as they are: no renaming, leaving or adding people', async () => {
    const dm = (await open(ann, [ben.id])).body;
    expect((await ann.call('PATCH', `/api/v1/channels/${dm.id}`, { topic: 'x' })).status).toBe(403);
    expect((await ann.call('POST', `/api/v1/channels/${dm.id}/leave`)).status).toBe(403);
    expect((await ann.call('POST', `/api/v1/channels/${dm.id}/archive`)).status).toBe(403);
    expect((await ann.call('DELETE', `/api/v1/channels/${dm.id}`)).status).toBe(403);
    expect(
      (await ann.call('POST', `/api/v1/channels/${dm.id}/members`, { userIds: [cat.id] })).status,
    ).toBe(403);
    expect((await cat.call('GET', `/api/v1/channels/${dm.id}`)).status).toBe(404);
    expect((await cat.call('POST', `/api/v1/channels/${dm.id}/join`)).status).toBe(404);
    expect((await ben.call('GET', `/api/v1/channels/${dm.id}`)).body).toMatchObject({
      kind: 'dm',
      member: true,
    });
  });

  it('gives a returning workspace member their place in an old DM back', async () => {
    const dm = (await open(ann, [cat.id])).body;
    expect((await cat.call('DELETE', `/api/v1/workspaces/${workspaceId}/members/me`)).status).toBe(
      204,
    );
    expect((await cat.call('GET', `/api/v1/dm/${dm.id}`)).status).toBe(404);
    expect((await open(ann, [cat.id])).status).toBe(404);
    const invite = await ann.call('POST', `/api/v1/workspaces/${workspaceId}/invites`, {});
    await cat.call('POST', '/api/v1/invites/accept', { code: invite.body.code });
    const reopened = await open(ann, [cat.id]);
    expect(reopened).toMatchObject({ status: 200, body: { id: dm.id, memberCount: 2 } });
    expect((await cat.call('GET', `/api/v1/dm/${dm.id}`)).status).toBe(200);
  });
});
