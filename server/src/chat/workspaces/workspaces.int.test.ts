// Workspaces over HTTP: create (with #general), list, read, update; members and roles; invites
// and accepting them; the authorization matrix; and the events each change commits.
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs } from '../../test-support/ws-client.js';
import { callApi, makeChatUser, type ChatTestUser } from '../test-support/api.js';

const run = Math.random().toString(36).slice(2, 8);

describe(`chat workspaces (${target})`, () => {
  let t: TestServer;
  let owner: ChatTestUser;
  let admin: ChatTestUser;
  let member: ChatTestUser;
  let outsider: ChatTestUser;
  let newcomer: ChatTestUser;
  let workspaceId: string;

  beforeAll(async () => {
    t = await startTestServer();
    const make = (name: string) => makeChatUser(t.server, name);
    [owner, admin, member, outsider, newcomer] = await Promise.all([
      make('owner'),
      make('admin'),
      make('member'),
      make('outsider'),
      make('newcomer'),
    ]);
    const created = await owner.call('POST', '/api/v1/workspaces', {
      name: `Acme ${run}`,
      slug: `acme-${run}`,
    });
    expect(created.status).toBe(201);
    workspaceId = created.body.id;
    await join(admin, 'admin');
    await join(member, 'member');
  });
  afterAll(() => t?.stop());

  const ws = (suffix = '') => `/api/v1/workspaces/${workspaceId}${suffix}`;

  async function invite(body: Record<string, unknown> = {}, by = owner) {
    const response = await by.call('POST', ws('/invites'), body);
    expect(response.status).toBe(201);
    return response.body as { id: string; code: string };
  }

  async function join(user: ChatTestUser, role: 'admin' | 'member') {
    const { code } = await invite({ role });
    const accepted = await user.call('POST', '/api/v1/invites/accept', { code });
    expect(accepted.status).toBe(200);
  }

  async function outboxOf(topic: string) {
    return rowsOf<{ type: string; payload: Record<string, unknown> }>(
      await t.server.store.db.execute(
        sql`select type, payload from core.outbox where topic = ${topic} order by seq`,
      ),
    );
  }

  async function generalOf(user: ChatTestUser) {
    const list = await user.call('GET', ws('/channels'));
    return (list.body.items as Array<Record<string, unknown>>).find((c) => c.name === 'general');
  }

  it('creates a workspace whose creator owns it and is in #general; slugs are unique', async () => {
    expect((await callApi(t.server, 'POST', '/api/v1/workspaces', { name: 'x' })).status).toBe(401);
    const bad = await owner.call('POST', '/api/v1/workspaces', { name: '' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(
      (await owner.call('POST', '/api/v1/workspaces', { name: 'n', slug: '-bad-' })).status,
    ).toBe(400);

    const created = await owner.call('POST', '/api/v1/workspaces', { name: `Side Project ${run}` });
    expect(created).toMatchObject({
      status: 201,
      body: { name: `Side Project ${run}`, slug: `side-project-${run}`, role: 'owner' },
    });
    const taken = await outsider.call('POST', '/api/v1/workspaces', {
      name: 'Other',
      slug: `SIDE-project-${run}`,
    });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    // A derived slug that is taken gets a suffix instead.
    const again = await outsider.call('POST', '/api/v1/workspaces', {
      name: `Side Project ${run}`,
    });
    expect(again.status).toBe(201);
    expect(again.body.slug).toMatch(new RegExp(`^side-project-${run}-[0-9a-f]{6}$`));

    const channels = await owner.call('GET', `/api/v1/workspaces/${created.body.id}/channels`);
    expect(channels.body.items).toEqual([
      expect.objectContaining({ name: 'general', kind: 'public', member: true, memberCount: 1 }),
    ]);
    const events = await outboxOf(`chat.user.${owner.id}`);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'workspace.joined',
        payload: expect.objectContaining({ workspaceId: created.body.id, role: 'owner' }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'channel.joined',
        payload: { channelId: channels.body.items[0].id, workspaceId: created.body.id },
      }),
    );
  });

  it('lists my workspaces and shows one only to its members', async () => {
    const mine = await member.call('GET', '/api/v1/workspaces');
    expect(mine.status).toBe(200);
    expect(mine.body.items).toContainEqual(
      expect.objectContaining({ id: workspaceId, role: 'member' }),
    );
    expect(mine.body.nextCursor).toBeNull();
    const theirs = await outsider.call('GET', '/api/v1/workspaces');
    expect(theirs.body.items.map((w: { id: string }) => w.id)).not.toContain(workspaceId);

    expect((await member.call('GET', ws())).body).toMatchObject({
      id: workspaceId,
      role: 'member',
    });
    expect((await outsider.call('GET', ws())).status).toBe(404);
    expect((await member.call('GET', '/api/v1/workspaces/not-a-uuid')).status).toBe(404);
    expect((await callApi(t.server, 'GET', ws())).status).toBe(401);
    expect((await member.call('GET', '/api/v1/workspaces?cursor=garbage')).status).toBe(400);
  });

  it('updates name and slug for admins only, and tells every member', async () => {
    expect((await member.call('PATCH', ws(), { name: 'Nope' })).status).toBe(403);
    expect((await outsider.call('PATCH', ws(), { name: 'Nope' })).status).toBe(404);
    expect((await admin.call('PATCH', ws(), {})).status).toBe(400);
    expect((await admin.call('PATCH', ws(), { colour: 'red' })).status).toBe(400);
    const renamed = await admin.call('PATCH', ws(), { name: `Acme Corp ${run}` });
    expect(renamed).toMatchObject({
      status: 200,
      body: { name: `Acme Corp ${run}`, role: 'admin' },
    });
    const put = await owner.call('PUT', ws(), { slug: `acme-corp-${run}` });
    expect(put.body).toMatchObject({ slug: `acme-corp-${run}`, name: `Acme Corp ${run}` });
    const conflict = await owner.call('PATCH', ws(), { slug: `side-project-${run}` });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    const heard = await outboxOf(`chat.user.${member.id}`);
    expect(heard).toContainEqual({
      type: 'workspace.updated',
      payload: expect.objectContaining({
        workspaceId,
        workspace: expect.objectContaining({ slug: `acme-corp-${run}` }),
      }),
    });
  });

  it('lists members by username with a cursor, for members only', async () => {
    const first = await member.call('GET', ws('/members?limit=2'));
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]).toMatchObject({
      userId: expect.any(String),
      role: expect.any(String),
      user: { username: expect.any(String), displayName: expect.any(String) },
    });
    const second = await member.call('GET', ws(`/members?limit=2&cursor=${first.body.nextCursor}`));
    expect(second.body.nextCursor).toBeNull();
    const all = [...first.body.items, ...second.body.items].map((m) => [m.userId, m.role]);
    expect(all).toEqual(
      expect.arrayContaining([
        [owner.id, 'owner'],
        [admin.id, 'admin'],
        [member.id, 'member'],
      ]),
    );
    expect(all).toHaveLength(3);
    expect((await outsider.call('GET', ws('/members'))).status).toBe(404);
    expect((await member.call('GET', ws('/members?limit=500'))).status).toBe(400);
  });

  it('creates invites for admins (admins only by the owner), shown once and stored hashed', async () => {
    expect((await member.call('POST', ws('/invites'), {})).status).toBe(403);
    expect((await outsider.call('POST', ws('/invites'), {})).status).toBe(404);
    expect((await admin.call('POST', ws('/invites'), { role: 'admin' })).status).toBe(403);
    expect((await admin.call('POST', ws('/invites'), { role: 'owner' })).status).toBe(400);
    expect((await admin.call('POST', ws('/invites'), { maxUses: 0 })).status).toBe(400);
    const created = await admin.call('POST', ws('/invites'), {
      maxUses: 3,
      expiresInSeconds: 3600,
    });
    expect(created).toMatchObject({
      status: 201,
      body: { code: expect.stringMatching(/^sbi_/), role: 'member', maxUses: 3, uses: 0 },
    });
    const [stored] = rowsOf<{ code_hash: string }>(
      await t.server.store.db.execute(
        sql`select code_hash from chat.workspace_invites where id = ${created.body.id}`,
      ),
    );
    expect(stored!.code_hash).toBe(createHash('sha256').update(created.body.code).digest('hex'));

    const listed = await admin.call('GET', ws('/invites'));
    expect(listed.status).toBe(200);
    const item = listed.body.items.find((i: { id: string }) => i.id === created.body.id);
    expect(item).toMatchObject({ status: 'active', uses: 0 });
    expect(item.code).toBeUndefined();
    expect((await member.call('GET', ws('/invites'))).status).toBe(403);
    expect((await outsider.call('GET', ws('/invites'))).status).toBe(404);
  });

  it('accepts an invite into the workspace and #general; a used-up or expired one is gone', async () => {
    const single = await invite({ maxUses: 1 });
    expect((await newcomer.call('POST', '/api/v1/invites/accept', {})).status).toBe(400);
    expect(
      (await newcomer.call('POST', '/api/v1/invites/accept', { code: 'sbi_nothing' })).status,
    ).toBe(404);
    const accepted = await newcomer.call('POST', '/api/v1/invites/accept', { code: single.code });
    expect(accepted).toMatchObject({ status: 200, body: { id: workspaceId, role: 'member' } });
    expect(await generalOf(newcomer)).toMatchObject({ member: true });
    // Accepting again as a member uses nothing; someone else finds it used up.
    expect(
      (await newcomer.call('POST', '/api/v1/invites/accept', { code: single.code })).status,
    ).toBe(200);
    const usedUp = await outsider.call('POST', '/api/v1/invites/accept', { code: single.code });
    expect(usedUp).toMatchObject({ status: 410, body: { error: { code: 'gone' } } });

    const expiring = await invite({ maxUses: 5 });
    await t.server.store.db.execute(
      sql`update chat.workspace_invites set expires_at = now() - interval '1 second' where id = ${expiring.id}`,
    );
    expect(
      (await outsider.call('POST', '/api/v1/invites/accept', { code: expiring.code })).status,
    ).toBe(410);

    const revoked = await invite({ maxUses: 5 });
    expect((await member.call('DELETE', ws(`/invites/${revoked.id}`))).status).toBe(403);
    expect((await admin.call('DELETE', ws(`/invites/${revoked.id}`))).status).toBe(204);
    expect((await admin.call('DELETE', ws(`/invites/${revoked.id}`))).status).toBe(404);
    expect(
      (await outsider.call('POST', '/api/v1/invites/accept', { code: revoked.code })).status,
    ).toBe(404);

    const events = await outboxOf(`chat.user.${newcomer.id}`);
    expect(events.map((e) => e.type)).toEqual(['workspace.joined', 'channel.joined']);
    const general = await generalOf(owner);
    expect((await outboxOf(`chat.channel.${general!.id as string}`)).at(-1)).toEqual({
      type: 'member.joined',
      payload: { channelId: general!.id, userId: newcomer.id },
    });
  });

  it('binds an invite to an email', async () => {
    const invitee = await makeChatUser(t.server, 'invitee');
    const email = (await invitee.call('GET', '/api/v1/users/me')).body.email as string;
    const bound = await invite({ email: email.toUpperCase(), maxUses: 2 });
    const refused = await outsider.call('POST', '/api/v1/invites/accept', { code: bound.code });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const accepted = await invitee.call('POST', '/api/v1/invites/accept', { code: bound.code });
    expect(accepted).toMatchObject({ status: 200, body: { id: workspaceId } });
  });

  it('lets only the owner change roles, and never demotes the last owner', async () => {
    const path = ws(`/members/${member.id}`);
    expect((await member.call('PATCH', path, { role: 'admin' })).status).toBe(403);
    expect((await admin.call('PATCH', path, { role: 'admin' })).status).toBe(403);
    expect((await outsider.call('PATCH', path, { role: 'admin' })).status).toBe(404);
    expect((await owner.call('PATCH', path, { role: 'boss' })).status).toBe(400);
    expect(
      (await owner.call('PATCH', ws(`/members/${outsider.id}`), { role: 'admin' })).status,
    ).toBe(404);
    const promoted = await owner.call('PATCH', path, { role: 'admin' });
    expect(promoted).toMatchObject({ status: 200, body: { userId: member.id, role: 'admin' } });
    expect(await outboxOf(`chat.user.${member.id}`)).toContainEqual({
      type: 'workspace.updated',
      payload: { workspaceId, role: 'admin' },
    });
    expect((await owner.call('PATCH', path, { role: 'member' })).body.role).toBe('member');

    const demoteSelf = await owner.call('PATCH', ws(`/members/${owner.id}`), { role: 'admin' });
    expect(demoteSelf).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect((await owner.call('DELETE', ws(`/members/${owner.id}`))).status).toBe(409);
  });

  it('removes members (admins remove members, the owner anyone), and from every channel', async () => {
    expect((await member.call('DELETE', ws(`/members/${newcomer.id}`))).status).toBe(403);
    expect((await admin.call('DELETE', ws(`/members/${owner.id}`))).status).toBe(403);
    expect((await outsider.call('DELETE', ws(`/members/${newcomer.id}`))).status).toBe(404);
    expect((await admin.call('DELETE', ws(`/members/${outsider.id}`))).status).toBe(404);

    const general = await generalOf(owner);
    const before = general!.memberCount as number;
    expect((await admin.call('DELETE', ws(`/members/${newcomer.id}`))).status).toBe(204);
    expect((await newcomer.call('GET', ws())).status).toBe(404);
    expect((await generalOf(owner))!.memberCount).toBe(before - 1);
    expect((await outboxOf(`chat.channel.${general!.id as string}`)).at(-1)).toEqual({
      type: 'member.left',
      payload: { channelId: general!.id, userId: newcomer.id, by: admin.id },
    });
    expect((await outboxOf(`chat.user.${newcomer.id}`)).slice(-2).map((e) => e.type)).toEqual([
      'channel.left',
      'workspace.left',
    ]);

    // Leaving yourself; then ownership passes and the former owner may step down.
    expect((await member.call('DELETE', ws(`/members/me`))).status).toBe(204);
    expect((await member.call('GET', ws())).status).toBe(404);
    await join(member, 'member');
    expect((await owner.call('PATCH', ws(`/members/${admin.id}`), { role: 'owner' })).status).toBe(
      200,
    );
    expect((await owner.call('PATCH', ws(`/members/${owner.id}`), { role: 'member' })).status).toBe(
      200,
    );
    expect((await owner.call('DELETE', ws(`/members/${owner.id}`))).status).toBe(204);
    expect((await admin.call('GET', ws())).body.role).toBe('owner');
  });

  it('delivers workspace events to a subscribed WebSocket', async () => {
    const token = await t.token(member.id, { topics: [`chat.user.${member.id}`] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    const topic = `chat.user.${member.id}`;
    expect(await socket.request({ op: 'subscribe', topics: [topic] })).toMatchObject({
      success: true,
    });
    await admin.call('PATCH', ws(), { name: `Acme Live ${run}` });
    const event = await socket.next(
      (f) => f.op === 'event' && f.topic === topic && f.type === 'workspace.updated',
    );
    expect(event).toMatchObject({
      seq: expect.any(Number),
      workspaceId,
      workspace: { name: `Acme Live ${run}` },
    });
    socket.close();
  });
});
