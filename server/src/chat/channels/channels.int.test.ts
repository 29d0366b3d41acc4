// Channels over HTTP: create, list with unread state, read, edit, archive, delete, join, leave,
// members; the authorization matrix; member counts; and the events each change commits.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs } from '../../test-support/ws-client.js';
import { callApi, makeChatUser, type ChatTestUser } from '../test-support/api.js';

const run = Math.random().toString(36).slice(2, 8);

describe(`chat channels (${target})`, () => {
  let t: TestServer;
  let owner: ChatTestUser;
  let admin: ChatTestUser;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let outsider: ChatTestUser;
  let workspaceId: string;
  let generalId: string;

  beforeAll(async () => {
    t = await startTestServer();
    const make = (name: string) => makeChatUser(t.server, name);
    [owner, admin, alice, bob, outsider] = await Promise.all([
      make('owner'),
      make('admin'),
      make('alice'),
      make('bob'),
      make('outsider'),
    ]);
    const created = await owner.call('POST', '/api/v1/workspaces', { name: `Chan ${run}` });
    workspaceId = created.body.id;
    for (const [user, role] of [
      [admin, 'admin'],
      [alice, 'member'],
      [bob, 'member'],
    ] as const) {
      const invite = await owner.call('POST', `/api/v1/workspaces/${workspaceId}/invites`, {
        role,
      });
      await user.call('POST', '/api/v1/invites/accept', { code: invite.body.code });
    }
    // The outsider has a workspace of their own.
    await outsider.call('POST', '/api/v1/workspaces', { name: `Elsewhere ${run}` });
    const list = await owner.call('GET', `/api/v1/workspaces/${workspaceId}/channels`);
    generalId = list.body.items[0].id;
  });
  afterAll(() => t?.stop());

  const channelsPath = () => `/api/v1/workspaces/${workspaceId}/channels`;
  const ch = (id: string, suffix = '') => `/api/v1/channels/${id}${suffix}`;

  async function create(user: ChatTestUser, body: Record<string, unknown>) {
    const response = await user.call('POST', channelsPath(), body);
    expect(response.status).toBe(201);
    return response.body as { id: string; memberCount: number };
  }

  async function outboxOf(topic: string) {
    return rowsOf<{ type: string; payload: Record<string, unknown> }>(
      await t.server.store.db.execute(
        sql`select type, payload from core.outbox where topic = ${topic} order by seq`,
      ),
    );
  }

  async function memberCountIsExact(channelId: string) {
    const [row] = rowsOf<{ stored: number; actual: number }>(
      await t.server.store.db.execute(
        sql`select c.member_count::int as stored,
              (select count(*)::int from chat.channel_members m where m.channel_id = c.id) as actual
            from chat.channels c where c.id = ${channelId}`,
      ),
    );
    expect(row!.stored).toBe(row!.actual);
    return row!.stored;
  }

  it('creates public and private channels with validated, unique names', async () => {
    expect((await callApi(t.server, 'POST', channelsPath(), { name: 'x' })).status).toBe(401);
    expect((await outsider.call('POST', channelsPath(), { name: 'x' })).status).toBe(404);
    for (const name of ['', 'has space', '-dash', 'x'.repeat(81)]) {
      const bad = await alice.call('POST', channelsPath(), { name });
      expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    }
    expect((await alice.call('POST', channelsPath(), { name: 'ok', kind: 'dm' })).status).toBe(400);
    const strangers = await alice.call('POST', channelsPath(), {
      name: 'with-stranger',
      memberIds: [outsider.id],
    });
    expect(strangers.status).toBe(400);
    expect(strangers.body.error.message).toContain('memberIds');

    const design = await alice.call('POST', channelsPath(), {
      name: ` Design-${run} `,
      topic: 'pixels',
      purpose: 'design talk',
    });
    expect(design).toMatchObject({
      status: 201,
      body: {
        name: `design-${run}`,
        kind: 'public',
        topic: 'pixels',
        purpose: 'design talk',
        member: true,
        role: 'owner',
        memberCount: 1,
        lastReadSeq: 0,
        lastMessageSeq: 0,
        unread: false,
        mentionCount: 0,
        archivedAt: null,
      },
    });
    const taken = await bob.call('POST', channelsPath(), { name: `DESIGN-${run}` });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });

    const secret = await create(alice, {
      name: `secret-${run}`,
      kind: 'private',
      memberIds: [bob.id, bob.id, alice.id],
    });
    expect(secret.memberCount).toBe(2);
    expect((await outboxOf(`chat.channel.${secret.id}`)).map((e) => e.type)).toEqual([
      'channel.created',
      'member.joined',
      'member.joined',
    ]);
    expect(await outboxOf(`chat.user.${bob.id}`)).toContainEqual({
      type: 'channel.joined',
      payload: { channelId: secret.id, workspaceId },
    });
    await memberCountIsExact(secret.id);
  });

  it('lists the channels I can see with my membership and unread state', async () => {
    const hidden = await create(owner, { name: `hidden-${run}`, kind: 'private' });
    const open = await create(owner, { name: `open-${run}` });
    // A message arrives in #open (the messages area keeps last_message_seq).
    await t.server.store.db.execute(
      sql`update chat.channels set last_message_seq = 7 where id = ${open.id}`,
    );
    await alice.call('POST', ch(open.id, '/join'));
    await t.server.store.db.execute(
      sql`update chat.channels set last_message_seq = 9 where id = ${open.id}`,
    );

    const all = await alice.call('GET', channelsPath());
    expect(all.status).toBe(200);
    const names = all.body.items.map((c: { name: string }) => c.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['general', `open-${run}`, `design-${run}`]));
    expect(names).not.toContain(`hidden-${run}`);
    expect(all.body.items.find((c: { id: string }) => c.id === open.id)).toMatchObject({
      member: true,
      lastReadSeq: 7,
      lastMessageSeq: 9,
      unread: true,
      mentionCount: 0,
    });

    const bobs = await bob.call('GET', `${channelsPath()}?member=true`);
    expect(bobs.body.items.map((c: { name: string }) => c.name).sort()).toEqual(
      ['general', `secret-${run}`].sort(),
    );
    const notMine = (await bob.call('GET', channelsPath())).body.items.find(
      (c: { id: string }) => c.id === open.id,
    );
    expect(notMine).toMatchObject({ member: false, role: null, unread: false });
    expect(
      (await owner.call('GET', channelsPath())).body.items.map((c: { id: string }) => c.id),
    ).toContain(hidden.id);

    const page1 = await alice.call('GET', `${channelsPath()}?limit=2`);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await alice.call(
      'GET',
      `${channelsPath()}?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items[0].name > page1.body.items[1].name).toBe(true);

    expect((await outsider.call('GET', channelsPath())).status).toBe(404);
    expect((await callApi(t.server, 'GET', channelsPath())).status).toBe(401);
    expect((await alice.call('GET', `${channelsPath()}?cursor=%%%`)).status).toBe(400);
  });

  it('shows a channel to those who may see it: private ones 404 to others', async () => {
    const secret = await create(owner, { name: `vault-${run}`, kind: 'private' });
    expect((await owner.call('GET', ch(secret.id))).body).toMatchObject({
      id: secret.id,
      kind: 'private',
      member: true,
    });
    expect((await alice.call('GET', ch(secret.id))).status).toBe(404);
    expect((await admin.call('GET', ch(secret.id))).status).toBe(404);
    expect((await alice.call('GET', ch(generalId))).body).toMatchObject({ member: true });
    expect((await outsider.call('GET', ch(generalId))).status).toBe(404);
    expect((await alice.call('GET', ch('nope'))).status).toBe(404);
    expect((await callApi(t.server, 'GET', ch(generalId))).status).toBe(401);
  });

  it('edits name, topic and purpose for managers only', async () => {
    const room = await create(owner, { name: `room-${run}` });
    await alice.call('POST', ch(room.id, '/join'));
    expect((await alice.call('PATCH', ch(room.id), { topic: 'mine now' })).status).toBe(403);
    expect((await bob.call('PATCH', ch(room.id), { topic: 'x' })).status).toBe(403);
    expect((await outsider.call('PATCH', ch(room.id), { topic: 'x' })).status).toBe(404);
    expect((await admin.call('PATCH', ch(room.id), {})).status).toBe(400);
    expect((await admin.call('PATCH', ch(room.id), { name: 'Bad Name' })).status).toBe(400);
    expect((await admin.call('PATCH', ch(room.id), { name: 'general' })).status).toBe(409);

    const edited = await admin.call('PATCH', ch(room.id), { topic: 'plans', name: `hall-${run}` });
    expect(edited).toMatchObject({
      status: 200,
      body: { name: `hall-${run}`, topic: 'plans', member: false },
    });
    const put = await owner.call('PUT', ch(room.id), { purpose: 'meetings' });
    expect(put.body).toMatchObject({ purpose: 'meetings', topic: 'plans', member: true });
    const updates = (await outboxOf(`chat.channel.${room.id}`)).filter(
      (e) => e.type === 'channel.updated',
    );
    expect(updates.map((e) => (e.payload.channel as { purpose: string }).purpose)).toEqual([
      '',
      'meetings',
    ]);
  });

  it('archives and unarchives for managers; archived channels take no joins; #general stays', async () => {
    const old = await create(alice, { name: `old-${run}` });
    expect((await bob.call('POST', ch(old.id, '/archive'))).status).toBe(403);
    const archived = await alice.call('POST', ch(old.id, '/archive'));
    expect(archived.body.archivedAt).toEqual(expect.any(String));
    expect((await alice.call('POST', ch(old.id, '/archive'))).status).toBe(200);
    expect((await bob.call('POST', ch(old.id, '/join'))).status).toBe(403);
    expect((await alice.call('PATCH', ch(old.id), { topic: 'x' })).status).toBe(403);
    expect((await alice.call('GET', channelsPath())).body.items).toContainEqual(
      expect.objectContaining({ id: old.id, archivedAt: expect.any(String) }),
    );
    const back = await admin.call('POST', ch(old.id, '/unarchive'));
    expect(back).toMatchObject({ status: 200, body: { archivedAt: null } });
    expect((await outboxOf(`chat.channel.${old.id}`)).map((e) => e.type)).toEqual([
      'channel.created',
      'member.joined',
      'channel.archived',
      'channel.unarchived',
    ]);
    expect((await owner.call('POST', ch(generalId, '/archive'))).status).toBe(403);
    expect((await outsider.call('POST', ch(old.id, '/archive'))).status).toBe(404);
  });

  it('deletes for managers: gone everywhere, its name free again', async () => {
    const doomed = await create(alice, { name: `doomed-${run}`, memberIds: [bob.id] });
    expect((await bob.call('DELETE', ch(doomed.id))).status).toBe(403);
    expect((await outsider.call('DELETE', ch(doomed.id))).status).toBe(404);
    expect((await owner.call('DELETE', ch(generalId))).status).toBe(403);
    expect((await alice.call('DELETE', ch(doomed.id))).status).toBe(204);
    expect((await alice.call('GET', ch(doomed.id))).status).toBe(404);
    expect((await alice.call('DELETE', ch(doomed.id))).status).toBe(404);
    expect(
      (await bob.call('GET', channelsPath())).body.items.map((c: { id: string }) => c.id),
    ).not.toContain(doomed.id);
    expect((await outboxOf(`chat.channel.${doomed.id}`)).at(-1)).toMatchObject({
      type: 'channel.deleted',
      payload: { channelId: doomed.id, channel: { id: doomed.id, name: `doomed-${run}` } },
    });
    expect((await outboxOf(`chat.user.${bob.id}`)).at(-1)).toEqual({
      type: 'channel.left',
      payload: { channelId: doomed.id, workspaceId, reason: 'deleted' },
    });
    await create(bob, { name: `doomed-${run}` });
  });

  it('joins public channels and leaves them, keeping member_count exact', async () => {
    const lounge = await create(owner, { name: `lounge-${run}` });
    const joined = await bob.call('POST', ch(lounge.id, '/join'));
    expect(joined).toMatchObject({
      status: 200,
      body: { member: true, role: 'member', memberCount: 2 },
    });
    expect((await bob.call('POST', ch(lounge.id, '/join'))).body.memberCount).toBe(2);
    expect((await outsider.call('POST', ch(lounge.id, '/join'))).status).toBe(404);
    expect(await memberCountIsExact(lounge.id)).toBe(2);

    expect((await bob.call('POST', ch(lounge.id, '/leave'))).status).toBe(204);
    expect((await bob.call('POST', ch(lounge.id, '/leave'))).status).toBe(204);
    expect(await memberCountIsExact(lounge.id)).toBe(1);
    expect((await outboxOf(`chat.channel.${lounge.id}`)).slice(-2)).toEqual([
      { type: 'member.joined', payload: { channelId: lounge.id, userId: bob.id } },
      { type: 'member.left', payload: { channelId: lounge.id, userId: bob.id } },
    ]);

    // Private: only by invitation; its last owner may leave.
    const den = await create(alice, { name: `den-${run}`, kind: 'private' });
    expect((await bob.call('POST', ch(den.id, '/join'))).status).toBe(404);
    expect((await bob.call('POST', ch(den.id, '/leave'))).status).toBe(404);
    expect((await alice.call('POST', ch(den.id, '/leave'))).status).toBe(204);
    expect((await alice.call('GET', ch(den.id))).status).toBe(404);
    expect(await memberCountIsExact(den.id)).toBe(0);
  });

  it('lists, adds and removes members with the right permissions', async () => {
    const club = await create(alice, { name: `club-${run}` });
    // Public: any member may add people; a non-member may not.
    expect((await bob.call('POST', ch(club.id, '/members'), { userIds: [admin.id] })).status).toBe(
      403,
    );
    expect((await alice.call('POST', ch(club.id, '/members'), { userIds: [] })).status).toBe(400);
    const stranger = await alice.call('POST', ch(club.id, '/members'), { userIds: [outsider.id] });
    expect(stranger.status).toBe(400);
    const added = await alice.call('POST', ch(club.id, '/members'), {
      userIds: [bob.id, admin.id],
    });
    expect(added).toMatchObject({ status: 200, body: { channel: { memberCount: 3 } } });
    expect(added.body.addedUserIds.sort()).toEqual([bob.id, admin.id].sort());
    const again = await bob.call('POST', ch(club.id, '/members'), { userIds: [admin.id] });
    expect(again.body.addedUserIds).toEqual([]);
    expect(await outboxOf(`chat.channel.${club.id}`)).toContainEqual({
      type: 'member.joined',
      payload: { channelId: club.id, userId: bob.id, by: alice.id },
    });

    const page1 = await bob.call('GET', ch(club.id, '/members?limit=2'));
    expect(page1.body.items).toHaveLength(2);
    const page2 = await bob.call(
      'GET',
      ch(club.id, `/members?limit=2&cursor=${page1.body.nextCursor}`),
    );
    expect(page2.body).toMatchObject({ nextCursor: null });
    expect([...page1.body.items, ...page2.body.items].map((m) => m.userId).sort()).toEqual(
      [alice.id, bob.id, admin.id].sort(),
    );
    expect((await outsider.call('GET', ch(club.id, '/members'))).status).toBe(404);

    // Removing: managers only (the channel's owner, workspace admins); yourself means leaving.
    expect((await bob.call('DELETE', ch(club.id, `/members/${admin.id}`))).status).toBe(403);
    expect((await alice.call('DELETE', ch(club.id, `/members/${admin.id}`))).status).toBe(204);
    expect((await alice.call('DELETE', ch(club.id, `/members/${admin.id}`))).status).toBe(404);
    expect((await bob.call('DELETE', ch(club.id, `/members/me`))).status).toBe(204);
    expect(await memberCountIsExact(club.id)).toBe(1);

    // Private: only managers add; members who are not managers get 403, others 404.
    const den = await create(alice, { name: `lair-${run}`, kind: 'private', memberIds: [bob.id] });
    expect((await bob.call('POST', ch(den.id, '/members'), { userIds: [admin.id] })).status).toBe(
      403,
    );
    expect((await admin.call('POST', ch(den.id, '/members'), { userIds: [admin.id] })).status).toBe(
      404,
    );
    expect(
      (await alice.call('POST', ch(den.id, '/members'), { userIds: [admin.id] })).body.addedUserIds,
    ).toEqual([admin.id]);
    expect(await memberCountIsExact(den.id)).toBe(3);
  });

  it('delivers channel.joined to a subscribed WebSocket', async () => {
    const topic = `chat.user.${bob.id}`;
    const token = await t.token(bob.id, { topics: [topic] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    expect(await socket.request({ op: 'subscribe', topics: [topic] })).toMatchObject({
      success: true,
    });
    const room = await create(alice, { name: `live-${run}`, kind: 'private', memberIds: [bob.id] });
    const event = await socket.next(
      (f) => f.op === 'event' && f.type === 'channel.joined' && f.channelId === room.id,
    );
    expect(event).toMatchObject({ topic, seq: expect.any(Number), workspaceId });
    socket.close();
  });
});
