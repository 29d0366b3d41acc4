// Messages over HTTP: send with idempotency, history windows, mentions, threads, reactions,
// edit/delete/pin permissions, and the channel's outbox events in seq order.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../store/index.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import { connectWs } from '../../test-support/ws-client.js';
import { requestHash } from './idempotency.js';
import { callApi, makeChatUsers, type ChatTestUser } from '../test-support/api.js';
import {
  makeChannel,
  makeWorkspace,
  setChannelArchived,
  type ChannelRow,
} from '../test-support/factories.js';
import { channelTopic } from '../topics.js';

interface OutboxEvent {
  type: string;
  seq: number;
  payload: Record<string, unknown>;
}

describe(`chat messages (${target})`, () => {
  let t: TestServer;
  // ada writes, bob reads along, cyd is in the workspace but not the channels, adm is a workspace
  // admin outside the channels, eve belongs to another workspace.
  let ada: ChatTestUser;
  let bob: ChatTestUser;
  let cyd: ChatTestUser;
  let adm: ChatTestUser;
  let eve: ChatTestUser;
  let workspaceId: string;
  let general: ChannelRow;
  let secret: ChannelRow;
  let elsewhere: ChannelRow;

  const db = () => t.server.store.db;
  const channel = (kind: 'public' | 'private' | 'dm' = 'public', members = [ada.id, bob.id]) =>
    makeChannel(db(), { workspaceId, kind, members });
  const send = (user: ChatTestUser, channelId: string, body: unknown, headers = {}) =>
    user.call('POST', `/api/v1/channels/${channelId}/messages`, body, headers);
  async function post(user: ChatTestUser, channelId: string, text: string, extra = {}) {
    const response = await send(user, channelId, { body: text, ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; seq: number; [key: string]: unknown };
  }
  async function outbox(channelId: string): Promise<OutboxEvent[]> {
    const result = await db().execute(
      sql`select type, seq::int as seq, payload from core.outbox
          where topic = ${channelTopic(channelId)} order by seq`,
    );
    return rowsOf<OutboxEvent>(result).map((r) => ({ ...r, seq: Number(r.seq) }));
  }
  async function member(channelId: string, userId: string) {
    const result = await db().execute(
      sql`select last_read_seq::int as "lastReadSeq", mention_count as "mentionCount"
          from chat.channel_members where channel_id = ${channelId} and user_id = ${userId}`,
    );
    const row = rowsOf<{ lastReadSeq: number; mentionCount: number }>(result)[0]!;
    return { lastReadSeq: Number(row.lastReadSeq), mentionCount: Number(row.mentionCount) };
  }

  beforeAll(async () => {
    t = await startTestServer({ env: { BODY_LIMIT_BYTES: String(256 * 1024) } });
    [ada, bob, cyd, adm, eve] = await makeChatUsers(t.server, ['ada', 'bob', 'cyd', 'adm', 'eve']);
    const workspace = await makeWorkspace(db(), {
      owner: ada.id,
      members: [bob.id, cyd.id, { userId: adm.id, role: 'admin' }],
    });
    workspaceId = workspace.id;
    const other = await makeWorkspace(db(), { owner: eve.id });
    general = await channel();
    secret = await channel('private');
    elsewhere = await makeChannel(db(), { workspaceId: other.id, members: [eve.id] });
  });
  afterAll(() => t?.stop());

  describe('send', () => {
    it('answers 201 with the message JSON and moves the channel head and the read marker', async () => {
      const ch = await channel();
      const sent = await send(ada, ch.id, { body: '**hi** _there_\n\n```\ncode\n```' });
      expect(sent.status).toBe(201);
      expect(sent.body).toEqual({
        id: expect.any(String),
        channelId: ch.id,
        seq: 1,
        authorId: ada.id,
        body: '**hi** _there_\n\n```\ncode\n```',
        threadRootId: null,
        replyCount: 0,
        lastReplyAt: null,
        threadParticipantIds: [],
        mentions: { userIds: [], channel: false, here: false },
        reactions: [],
        pinned: false,
        pinnedAt: null,
        pinnedBy: null,
        editedAt: null,
        deletedAt: null,
        clientMsgId: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      });
      const second = await post(bob, ch.id, 'second');
      expect(second.seq).toBe(2);
      const [row] = rowsOf<{ last_message_seq: string | number }>(
        await db().execute(sql`select last_message_seq from chat.channels where id = ${ch.id}`),
      );
      expect(Number(row!.last_message_seq)).toBe(2);
      expect(await member(ch.id, ada.id)).toMatchObject({ lastReadSeq: 1 });
      expect(await member(ch.id, bob.id)).toMatchObject({ lastReadSeq: 2 });
      expect((await ada.call('GET', `/api/v1/messages/${sent.body.id}`)).body).toEqual(sent.body);
    });

    it('refuses bad payloads with 400 and oversized ones with 413', async () => {
      const bad = [
        {},
        { body: '' },
        { body: '   \n ' },
        { body: 'x'.repeat(40_001) },
        { body: 42 },
        { body: 'ok', extra: true },
        { body: 'ok', clientMsgId: 'c'.repeat(65) },
        { body: 'ok', threadRootId: 'not-a-uuid' },
        [],
      ];
      for (const payload of bad) {
        const response = await send(ada, general.id, payload);
        expect(response.status, JSON.stringify(payload).slice(0, 80)).toBe(400);
        expect(response.body.error.code).toBe('invalid_request');
      }
      expect((await send(ada, general.id, { body: 'x'.repeat(40_000) })).status).toBe(201);
      const huge = await send(ada, general.id, { body: 'x'.repeat(300 * 1024) });
      expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
      const broken = await t.server.app.inject({
        method: 'POST',
        url: `/api/v1/channels/${general.id}/messages`,
        headers: { authorization: `Bearer ${ada.accessToken}`, 'content-type': 'application/json' },
        payload: '{"body": ',
      });
      expect(broken.statusCode).toBe(400);
      const badKey = await send(ada, general.id, { body: 'k' }, { 'idempotency-key': 'has space' });
      expect(badKey.status).toBe(400);
    });

    it('lets only members of a live channel post; the rest see 401, 403 or 404', async () => {
      const before = await send(ada, general.id, { body: 'before' });
      const archived = await channel();
      await setChannelArchived(db(), archived.id, true);
      const cases: Array<[ChatTestUser | undefined, string, number]> = [
        [undefined, general.id, 401],
        [cyd, general.id, 403], // sees the public channel, is not in it
        [adm, general.id, 403], // admins moderate, they do not post where they are not
        [cyd, secret.id, 404],
        [adm, secret.id, 404],
        [eve, general.id, 404],
        [ada, elsewhere.id, 404],
        [ada, archived.id, 403],
        [ada, '0190a000-0000-7000-8000-000000000000', 404],
        [ada, 'nope', 404],
      ];
      for (const [user, channelId, status] of cases) {
        const response = user
          ? await send(user, channelId, { body: 'hello' })
          : await callApi(t.server, 'POST', `/api/v1/channels/${channelId}/messages`, {
              body: 'hello',
            });
        expect(response.status, `${user?.username ?? 'anonymous'} → ${channelId}`).toBe(status);
      }
      expect((await send(bob, secret.id, { body: 'members may' })).status).toBe(201);
      // A refused post takes no seq: the channel's next message follows the last one.
      const after = await send(ada, general.id, { body: 'after' });
      expect(after.body.seq).toBe(before.body.seq + 1);
    });
  });

  describe('idempotency', () => {
    it('answers a repeated Idempotency-Key with the first response, once', async () => {
      const ch = await channel();
      const headers = { 'idempotency-key': 'key-0001' };
      const first = await send(ada, ch.id, { body: 'once', clientMsgId: 'x' }, headers);
      // Same request with its keys in another order: the same request.
      const again = await send(ada, ch.id, { clientMsgId: 'x', body: 'once' }, headers);
      expect(first.status).toBe(201);
      expect(again).toMatchObject({ status: 201, body: first.body });
      const reused = await send(ada, ch.id, { body: 'another' }, headers);
      expect(reused).toMatchObject({
        status: 422,
        body: { error: { code: 'idempotency_key_reused' } },
      });
      // Keys belong to their user.
      expect((await send(bob, ch.id, { body: 'another' }, headers)).status).toBe(201);
      const list = await ada.call('GET', `/api/v1/channels/${ch.id}/messages`);
      expect(list.body.items.map((m: { body: string }) => m.body)).toEqual(['once', 'another']);
    });

    it('answers 409 while the first request with a key is still running', async () => {
      const hash = requestHash('POST', `/api/v1/channels/${general.id}/messages`, { body: 'x' });
      await db().execute(
        sql`insert into chat.idempotency_keys (user_id, key, request_hash) values (${ada.id}, 'in-flight', ${hash})`,
      );
      const response = await send(
        ada,
        general.id,
        { body: 'x' },
        { 'idempotency-key': 'in-flight' },
      );
      expect(response).toMatchObject({
        status: 409,
        body: { error: { code: 'idempotency_in_flight' } },
      });
    });

    it('writes one message for concurrent requests with the same key', async () => {
      const ch = await channel();
      const headers = { 'idempotency-key': 'concurrent' };
      const responses = await Promise.all(
        [1, 2, 3].map(() => send(ada, ch.id, { body: 'at once' }, headers)),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses).toContain(201);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const created = responses.filter((r) => r.status === 201).map((r) => r.body.id);
      expect(new Set(created).size).toBe(1);
      expect((await outbox(ch.id)).map((e) => e.seq)).toEqual([1]);
    });

    it('frees a key whose request failed, so a corrected retry runs', async () => {
      const ch = await channel();
      await setChannelArchived(db(), ch.id, true);
      const headers = { 'idempotency-key': 'retry-after-403' };
      expect((await send(ada, ch.id, { body: 'x' }, headers)).status).toBe(403);
      await setChannelArchived(db(), ch.id, false);
      expect((await send(ada, ch.id, { body: 'x' }, headers)).status).toBe(201);
    });

    it('returns the existing message for a repeated clientMsgId instead of a duplicate', async () => {
      const ch = await channel();
      const first = await post(ada, ch.id, 'dedupe me', { clientMsgId: 'tmp-1' });
      const retry = await send(ada, ch.id, { body: 'dedupe me', clientMsgId: 'tmp-1' });
      expect(retry).toMatchObject({ status: 200, body: { id: first.id, seq: first.seq } });
      // Concurrent duplicates: one is written, the other finds it.
      const [a, b] = await Promise.all([
        send(ada, ch.id, { body: 'race', clientMsgId: 'tmp-2' }),
        send(ada, ch.id, { body: 'race', clientMsgId: 'tmp-2' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 201]);
      expect(a.body.id).toBe(b.body.id);
      // Another author may use the same client id.
      expect((await send(bob, ch.id, { body: 'mine', clientMsgId: 'tmp-1' })).status).toBe(201);
      const events = await outbox(ch.id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events.every((e) => e.type === 'message.created')).toBe(true);
    });
  });

  describe('mentions', () => {
    it('stores members mentioned outside code and counts them; @channel and @here count everyone else', async () => {
      const ch = await channel('public', [ada.id, bob.id, cyd.id]);
      const sent = await post(
        ada,
        ch.id,
        `hey @${bob.username.toUpperCase()} and @${adm.username} (not a member), ` +
          `\`@${cyd.username}\`\n\`\`\`\n@${cyd.username} @channel\n\`\`\`\nmail x@${cyd.username}.com`,
      );
      expect(sent.mentions).toEqual({ userIds: [bob.id], channel: false, here: false });
      expect(await member(ch.id, bob.id)).toMatchObject({ mentionCount: 1 });
      expect(await member(ch.id, cyd.id)).toMatchObject({ mentionCount: 0 });
      const everyone = await post(bob, ch.id, `@channel and @here, @${bob.username} too`);
      expect(everyone.mentions).toEqual({ userIds: [bob.id], channel: true, here: true });
      expect(await member(ch.id, ada.id)).toMatchObject({ mentionCount: 1 });
      // Not by oneself; and posting read the channel, Ada's mention included.
      expect(await member(ch.id, bob.id)).toMatchObject({ mentionCount: 0 });
      expect(await member(ch.id, cyd.id)).toMatchObject({ mentionCount: 1 });
      await post(cyd, ch.id, '@here');
      expect(await member(ch.id, ada.id)).toMatchObject({ mentionCount: 2 });
      expect(await member(ch.id, cyd.id)).toMatchObject({ mentionCount: 0 });
    });
  });

  describe('history', () => {
    let ch: ChannelRow;
    let roots: Array<{ id: string; seq: number }>;
    let all: number[];
    beforeAll(async () => {
      ch = await channel();
      roots = [];
      for (let i = 1; i <= 7; i++) {
        const root = await post(ada, ch.id, `root ${i}`);
        roots.push(root);
        if (i % 3 === 0) await post(bob, ch.id, `reply to ${i}`, { threadRootId: root.id });
      }
      all = (await outbox(ch.id)).filter((e) => e.type === 'message.created').map((e) => e.seq);
    });
    const list = (query = '') => ada.call('GET', `/api/v1/channels/${ch.id}/messages${query}`);
    const seqs = (body: { items: Array<{ seq: number }> }) => body.items.map((m) => m.seq);

    it('lists the newest root messages by default, ascending', async () => {
      const page = await list();
      expect(page.status).toBe(200);
      expect(seqs(page.body)).toEqual(roots.map((r) => r.seq));
      expect(page.body).toMatchObject({ hasOlder: false, hasNewer: false, olderCursor: null });
      const withReplies = await list('?thread=all');
      expect(seqs(withReplies.body)).toEqual(all);
      const last = await list('?limit=2');
      expect(seqs(last.body)).toEqual(roots.slice(-2).map((r) => r.seq));
      expect(last.body).toMatchObject({ hasOlder: true, hasNewer: false, newerCursor: null });
      expect(last.body.nextCursor).toBe(last.body.olderCursor);
    });

    it('walks back and forth with cursors without gaps or repeats', async () => {
      const back: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Array<{ seq: number }>; olderCursor: string | null } } =
          await list(`?thread=all&limit=3${cursor ? `&before=${cursor}` : ''}`);
        back.unshift(...seqs(page.body));
        cursor = page.body.olderCursor;
      } while (cursor);
      expect(back).toEqual(all);
      const forward: number[] = [];
      cursor = '0';
      while (cursor) {
        const page = await list(`?thread=all&limit=4&after=${cursor}`);
        forward.push(...seqs(page.body));
        expect(page.body.nextCursor).toBe(page.body.newerCursor);
        cursor = page.body.newerCursor;
      }
      expect(forward).toEqual(all);
    });

    it('treats before and after as exclusive, with exact flags at the edges', async () => {
      const [first, second] = [roots[0]!, roots[1]!];
      const last = roots.at(-1)!;
      const before2 = await list(`?before=${second.seq}`);
      expect(seqs(before2.body)).toEqual([first.seq]);
      expect(before2.body).toMatchObject({ hasOlder: false, hasNewer: true, olderCursor: null });
      const beforeFirst = await list(`?before=${first.seq}`);
      expect(beforeFirst.body).toMatchObject({ items: [], hasOlder: false, hasNewer: true });
      // The empty page's newer cursor starts at the boundary.
      const resumed = await list(`?limit=1&after=${beforeFirst.body.newerCursor}`);
      expect(seqs(resumed.body)).toEqual([first.seq]);
      const afterLast = await list(`?after=${last.seq}`);
      expect(afterLast.body).toMatchObject({ items: [], hasOlder: true, hasNewer: false });
      const back = await list(`?limit=1&before=${afterLast.body.olderCursor}`);
      expect(seqs(back.body)).toEqual([last.seq]);
      const afterPenultimate = await list(`?after=${roots.at(-2)!.seq}`);
      expect(seqs(afterPenultimate.body)).toEqual([last.seq]);
      expect(afterPenultimate.body).toMatchObject({ hasOlder: true, hasNewer: false });
    });

    it('centres a page around a message id or a seq', async () => {
      const middle = roots[3]!;
      const byId = await list(`?around=${middle.id}&limit=3`);
      expect(seqs(byId.body)).toEqual([roots[2]!.seq, middle.seq, roots[4]!.seq]);
      expect(byId.body).toMatchObject({ hasOlder: true, hasNewer: true });
      const bySeq = await list(`?around=${middle.seq}&limit=4`);
      expect(seqs(bySeq.body)).toEqual(roots.slice(1, 5).map((r) => r.seq));
      const atStart = await list(`?around=${roots[0]!.id}&limit=4`);
      expect(seqs(atStart.body)).toEqual(roots.slice(0, 2).map((r) => r.seq));
      expect(atStart.body).toMatchObject({ hasOlder: false, hasNewer: true });
      const older = await list(`?limit=50&before=${byId.body.olderCursor}`);
      const newer = await list(`?limit=50&after=${byId.body.newerCursor}`);
      expect([...seqs(older.body), ...seqs(byId.body), ...seqs(newer.body)]).toEqual(
        roots.map((r) => r.seq),
      );
    });

    it('refuses bad window arguments and hides the channel from outsiders', async () => {
      for (const query of [
        '?before=1&after=2',
        '?limit=0',
        '?limit=201',
        '?before=@@',
        '?thread=some',
        '?before=-1',
      ]) {
        expect((await list(query)).status, query).toBe(400);
      }
      expect((await list('?around=0190a000-0000-7000-8000-000000000000')).status).toBe(404);
      expect((await list('?limit=200')).status).toBe(200);
      expect((await cyd.call('GET', `/api/v1/channels/${ch.id}/messages`)).status).toBe(200);
      expect((await eve.call('GET', `/api/v1/channels/${ch.id}/messages`)).status).toBe(404);
      expect((await cyd.call('GET', `/api/v1/channels/${secret.id}/messages`)).status).toBe(404);
      expect((await callApi(t.server, 'GET', `/api/v1/channels/${ch.id}/messages`)).status).toBe(
        401,
      );
      expect((await eve.call('GET', `/api/v1/messages/${roots[0]!.id}`)).status).toBe(404);
      expect((await cyd.call('GET', `/api/v1/messages/${roots[0]!.id}`)).status).toBe(200);
    });

    it('serves DMs under /dm/:id/messages too', async () => {
      const dm = await channel('dm');
      const hello = await post(bob, dm.id, 'psst');
      const page = await ada.call('GET', `/api/v1/dm/${dm.id}/messages`);
      expect(page).toMatchObject({ status: 200, body: { items: [{ id: hello.id }] } });
      expect((await cyd.call('GET', `/api/v1/dm/${dm.id}/messages`)).status).toBe(404);
      expect((await ada.call('GET', `/api/v1/dm/${ch.id}/messages`)).status).toBe(404);
      expect((await ada.call('GET', `/api/v1/channels/${dm.id}/messages`)).status).toBe(200);
    });
  });

  describe('threads', () => {
    it('counts replies, keeps participants and followers, and lists threads by activity', async () => {
      const ch = await channel('public', [ada.id, bob.id, cyd.id]);
      const root = await post(ada, ch.id, 'thread root');
      const quiet = await post(ada, ch.id, 'another root');
      const r1 = await post(bob, ch.id, 'first reply', { threadRootId: root.id });
      await post(cyd, ch.id, `second, cc @${adm.username} @${bob.username}`, {
        threadRootId: root.id,
      });
      const r3 = await post(bob, ch.id, 'third', { threadRootId: root.id });
      await post(cyd, ch.id, 'on the quiet one', { threadRootId: quiet.id });
      const got = (await ada.call('GET', `/api/v1/messages/${root.id}`)).body;
      expect(got).toMatchObject({
        replyCount: 3,
        threadParticipantIds: [bob.id, cyd.id],
        lastReplyAt: expect.any(String),
      });
      // Replies do not move the channel head, nor the replier's channel read marker.
      const [head] = rowsOf<{ s: number }>(
        await db().execute(
          sql`select last_message_seq::int as s from chat.channels where id = ${ch.id}`,
        ),
      );
      expect(Number(head!.s)).toBe(quiet.seq);
      expect((await member(ch.id, bob.id)).lastReadSeq).toBe(0);
      expect(await member(ch.id, bob.id)).toMatchObject({ mentionCount: 1 });
      const follows = rowsOf<{
        user_id: string;
        following: boolean;
        last_read_seq: string;
        mention_count: number;
      }>(
        await db().execute(
          sql`select user_id, following, last_read_seq, mention_count from chat.thread_follows where root_id = ${root.id}`,
        ),
      );
      const byUser = new Map(follows.map((f) => [f.user_id, f]));
      expect(byUser.get(ada.id)).toMatchObject({ following: true, mention_count: 0 });
      expect(byUser.get(bob.id)).toMatchObject({ following: true, mention_count: 1 });
      expect(Number(byUser.get(bob.id)!.last_read_seq)).toBe(r3.seq);
      expect(byUser.has(cyd.id)).toBe(true);
      expect(byUser.has(adm.id)).toBe(false); // not a channel member
      const thread = await cyd.call('GET', `/api/v1/messages/${r1.id}/thread?limit=2`);
      expect(thread.body).toMatchObject({ root: { id: root.id }, hasOlder: true, hasNewer: false });
      expect(thread.body.items.map((m: { body: string }) => m.body)).toEqual([
        expect.stringContaining('second'),
        'third',
      ]);
      const rest = await cyd.call(
        'GET',
        `/api/v1/messages/${root.id}/thread?before=${thread.body.olderCursor}`,
      );
      expect(rest.body.items.map((m: { id: string }) => m.id)).toEqual([r1.id]);
      const threads = await bob.call('GET', `/api/v1/channels/${ch.id}/threads`);
      expect(threads.body.items.map((m: { id: string }) => m.id)).toEqual([quiet.id, root.id]);
      expect(threads.body.items.map((m: { following: boolean }) => m.following)).toEqual([
        false,
        true,
      ]);
      const firstPage = await bob.call('GET', `/api/v1/channels/${ch.id}/threads?limit=1`);
      const second = await bob.call(
        'GET',
        `/api/v1/channels/${ch.id}/threads?limit=1&cursor=${firstPage.body.nextCursor}`,
      );
      expect(second.body).toMatchObject({ items: [{ id: root.id }], nextCursor: null });
      const events = await outbox(ch.id);
      const updates = events.filter((e) => e.type === 'thread.updated');
      expect(updates.at(-2)!.payload).toMatchObject({
        threadRootId: root.id,
        replyCount: 3,
        lastReplySeq: r3.seq,
        threadParticipantIds: [bob.id, cyd.id],
      });
    });

    it('follows and unfollows, and refuses replies to replies or to other channels', async () => {
      const ch = await channel();
      const root = await post(ada, ch.id, 'root');
      const reply = await post(bob, ch.id, 'reply', { threadRootId: root.id });
      expect(await bob.call('DELETE', `/api/v1/messages/${reply.id}/follow`)).toMatchObject({
        status: 200,
        body: { threadRootId: root.id, following: false },
      });
      let listed = await bob.call('GET', `/api/v1/channels/${ch.id}/threads`);
      expect(listed.body.items[0].following).toBe(false);
      await bob.call('PUT', `/api/v1/messages/${root.id}/follow`);
      listed = await bob.call('GET', `/api/v1/channels/${ch.id}/threads`);
      expect(listed.body.items[0].following).toBe(true);
      expect((await cyd.call('PUT', `/api/v1/messages/${root.id}/follow`)).status).toBe(200);
      expect((await eve.call('PUT', `/api/v1/messages/${root.id}/follow`)).status).toBe(404);
      const nested = await send(ada, ch.id, { body: 'x', threadRootId: reply.id });
      expect(nested.status).toBe(400);
      const foreign = await send(ada, general.id, { body: 'x', threadRootId: root.id });
      expect(foreign.status).toBe(404);
    });
  });

  describe('reactions', () => {
    it('adds and removes idempotently, grouped with counts, with events carrying the count', async () => {
      const ch = await channel('public', [ada.id, bob.id, cyd.id]);
      const msg = await post(ada, ch.id, 'react to me');
      const thumbs = encodeURIComponent('👍');
      expect((await ada.call('PUT', `/api/v1/messages/${msg.id}/reactions/${thumbs}`)).status).toBe(
        200,
      );
      await ada.call('PUT', `/api/v1/messages/${msg.id}/reactions/${thumbs}`);
      await bob.call('POST', `/api/v1/messages/${msg.id}/reactions`, { emoji: '👍' });
      const party = await cyd.call('PUT', `/api/v1/messages/${msg.id}/reactions/:tada:`);
      await cyd.call('POST', `/api/v1/messages/${msg.id}/reactions`, {
        emoji: '👨‍👩‍👧‍👦',
      });
      await bob.call('PUT', `/api/v1/messages/${msg.id}/reactions/${encodeURIComponent('👍🏽')}`);
      expect(party.body.reactions).toEqual([
        { emoji: '👍', count: 2, userIds: [ada.id, bob.id], me: false },
        { emoji: ':tada:', count: 1, userIds: [cyd.id], me: true },
      ]);
      const seen = (await ada.call('GET', `/api/v1/messages/${msg.id}`)).body.reactions;
      expect(
        seen.map((r: { emoji: string; count: number; me: boolean }) => [r.emoji, r.count, r.me]),
      ).toEqual([
        ['👍', 2, true],
        [':tada:', 1, false],
        ['👨‍👩‍👧‍👦', 1, false],
        ['👍🏽', 1, false],
      ]);
      const removed = await ada.call('DELETE', `/api/v1/messages/${msg.id}/reactions/${thumbs}`);
      expect(removed.body.reactions[0]).toEqual({
        emoji: '👍',
        count: 1,
        userIds: [bob.id],
        me: false,
      });
      await ada.call('DELETE', `/api/v1/messages/${msg.id}/reactions/${thumbs}`);
      const events = (await outbox(ch.id)).filter((e) => e.type.startsWith('reaction.'));
      expect(
        events.map((e) => [e.type, e.payload.emoji, e.payload.count, e.payload.userId]),
      ).toEqual([
        ['reaction.added', '👍', 1, ada.id],
        ['reaction.added', '👍', 2, bob.id],
        ['reaction.added', ':tada:', 1, cyd.id],
        ['reaction.added', '👨‍👩‍👧‍👦', 1, cyd.id],
        ['reaction.added', '👍🏽', 1, bob.id],
        ['reaction.removed', '👍', 1, ada.id],
      ]);
      expect(events[0]!.payload).toMatchObject({ channelId: ch.id, messageId: msg.id });
    });

    it('validates emoji and who may react', async () => {
      const msg = await post(ada, general.id, 'validate');
      for (const emoji of ['a', 'thumbsup', ':bad code:', '👍👍', `:${'x'.repeat(63)}:`, '1']) {
        const response = await ada.call('POST', `/api/v1/messages/${msg.id}/reactions`, { emoji });
        expect(response.status, emoji).toBe(400);
      }
      expect(
        (await ada.call('PUT', `/api/v1/messages/${msg.id}/reactions/${encodeURIComponent('❤️')}`))
          .status,
      ).toBe(200);
      expect((await cyd.call('PUT', `/api/v1/messages/${msg.id}/reactions/:x:`)).status).toBe(403);
      expect((await eve.call('PUT', `/api/v1/messages/${msg.id}/reactions/:x:`)).status).toBe(404);
    });
  });

  describe('edit, delete and pin', () => {
    it('lets only the author edit, and re-parses mentions', async () => {
      const ch = await channel('public', [ada.id, bob.id, cyd.id]);
      const msg = await post(ada, ch.id, 'first draft');
      const edited = await ada.call('PATCH', `/api/v1/messages/${msg.id}`, {
        body: `now with @${cyd.username}`,
      });
      expect(edited).toMatchObject({
        status: 200,
        body: {
          body: `now with @${cyd.username}`,
          mentions: { userIds: [cyd.id] },
          editedAt: expect.any(String),
        },
      });
      expect(
        (await ada.call('PUT', `/api/v1/messages/${msg.id}`, { body: 'via PUT' })).status,
      ).toBe(200);
      // Unchanged text is no change at all.
      await ada.call('PUT', `/api/v1/messages/${msg.id}`, { body: 'via PUT' });
      const cases: Array<[ChatTestUser, number]> = [
        [bob, 403], // another member
        [adm, 403], // a workspace admin moderates but does not rewrite
        [eve, 404],
      ];
      for (const [user, status] of cases) {
        const response = await user.call('PATCH', `/api/v1/messages/${msg.id}`, {
          body: 'mine now',
        });
        expect(response.status, user.username).toBe(status);
      }
      expect((await ada.call('PATCH', `/api/v1/messages/${msg.id}`, { body: '' })).status).toBe(
        400,
      );
      const updates = (await outbox(ch.id)).filter((e) => e.type === 'message.updated');
      expect(updates.map((e) => (e.payload.message as { body: string }).body)).toEqual([
        `now with @${cyd.username}`,
        'via PUT',
      ]);
      const priv = await channel('private');
      const hidden = await post(bob, priv.id, 'private');
      expect((await cyd.call('PATCH', `/api/v1/messages/${hidden.id}`, { body: 'x' })).status).toBe(
        404,
      );
      await setChannelArchived(db(), priv.id, true);
      expect((await bob.call('PATCH', `/api/v1/messages/${hidden.id}`, { body: 'x' })).status).toBe(
        403,
      );
    });

    it('lets the author or an admin delete, leaving an idempotent tombstone', async () => {
      const ch = await channel('public', [ada.id, bob.id, cyd.id]);
      const root = await post(ada, ch.id, `doomed @${bob.username}`);
      const reply = await post(bob, ch.id, 'reply to doomed', { threadRootId: root.id });
      await bob.call('PUT', `/api/v1/messages/${root.id}/reactions/:x:`);
      await bob.call('PUT', `/api/v1/messages/${root.id}/pin`);
      expect((await bob.call('DELETE', `/api/v1/messages/${root.id}`)).status).toBe(403);
      expect((await cyd.call('DELETE', `/api/v1/messages/${root.id}`)).status).toBe(403);
      expect((await eve.call('DELETE', `/api/v1/messages/${root.id}`)).status).toBe(404);
      expect((await adm.call('DELETE', `/api/v1/messages/${root.id}`)).status).toBe(204);
      expect((await ada.call('DELETE', `/api/v1/messages/${root.id}`)).status).toBe(204);
      const tombstone = (await ada.call('GET', `/api/v1/messages/${root.id}`)).body;
      expect(tombstone).toMatchObject({
        body: '',
        reactions: [],
        mentions: { userIds: [], channel: false, here: false },
        pinned: false,
        deletedAt: expect.any(String),
        replyCount: 1,
      });
      const [{ n } = { n: 1 }] = rowsOf<{ n: number }>(
        await db().execute(
          sql`select count(*)::int as n from chat.reactions where message_id = ${root.id}`,
        ),
      );
      expect(Number(n)).toBe(0);
      expect(
        (await ada.call('PATCH', `/api/v1/messages/${root.id}`, { body: 'back' })).status,
      ).toBe(410);
      expect((await bob.call('PUT', `/api/v1/messages/${root.id}/reactions/:x:`)).status).toBe(410);
      expect((await bob.call('PUT', `/api/v1/messages/${root.id}/pin`)).status).toBe(410);
      expect(
        (
          await bob.call('POST', `/api/v1/channels/${ch.id}/messages`, {
            body: 'x',
            threadRootId: root.id,
          })
        ).status,
      ).toBe(410);
      // The tombstone keeps its place in history.
      const history = await ada.call('GET', `/api/v1/channels/${ch.id}/messages`);
      expect(history.body.items.map((m: { id: string }) => m.id)).toEqual([root.id]);
      // Deleting a reply takes it off the thread's count.
      expect((await bob.call('DELETE', `/api/v1/messages/${reply.id}`)).status).toBe(204);
      expect((await ada.call('GET', `/api/v1/messages/${root.id}`)).body.replyCount).toBe(0);
      const types = (await outbox(ch.id)).map((e) => e.type);
      expect(types.filter((type) => type === 'message.deleted')).toHaveLength(2);
      expect(types.at(-1)).toBe('thread.updated');
    });

    it('pins and unpins idempotently and lists pins, newest first', async () => {
      const ch = await channel('public', [ada.id, bob.id]);
      const a = await post(ada, ch.id, 'pin a');
      const b = await post(bob, ch.id, 'pin b');
      const pinned = await bob.call('PUT', `/api/v1/messages/${a.id}/pin`);
      expect(pinned).toMatchObject({ status: 200, body: { pinned: true, pinnedBy: bob.id } });
      await bob.call('PUT', `/api/v1/messages/${a.id}/pin`);
      await ada.call('PUT', `/api/v1/messages/${b.id}/pin`);
      expect((await cyd.call('PUT', `/api/v1/messages/${a.id}/pin`)).status).toBe(403);
      expect((await eve.call('PUT', `/api/v1/messages/${a.id}/pin`)).status).toBe(404);
      const pins = await cyd.call('GET', `/api/v1/channels/${ch.id}/pins`);
      expect(pins.body.items.map((m: { id: string }) => m.id)).toEqual([b.id, a.id]);
      const page = await cyd.call('GET', `/api/v1/channels/${ch.id}/pins?limit=1`);
      const next = await cyd.call(
        'GET',
        `/api/v1/channels/${ch.id}/pins?limit=1&cursor=${page.body.nextCursor}`,
      );
      expect(next.body).toMatchObject({ items: [{ id: a.id }], nextCursor: null });
      expect((await eve.call('GET', `/api/v1/channels/${ch.id}/pins`)).status).toBe(404);
      const unpinned = await ada.call('DELETE', `/api/v1/messages/${a.id}/pin`);
      expect(unpinned.body).toMatchObject({ pinned: false, pinnedAt: null, pinnedBy: null });
      await ada.call('DELETE', `/api/v1/messages/${a.id}/pin`);
      const types = (await outbox(ch.id)).map((e) => e.type);
      expect(types).toEqual([
        'message.created',
        'message.created',
        'message.pinned',
        'message.pinned',
        'message.unpinned',
      ]);
    });
  });

  it('writes every change as a channel event with gap-free seqs, and delivers it', async () => {
    const ch = await channel();
    const token = await t.token(ada.id, { topics: [channelTopic(ch.id)] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    try {
      await socket.request({ op: 'subscribe', topics: [channelTopic(ch.id)] });
      const root = await post(ada, ch.id, 'evented');
      const reply = await post(bob, ch.id, 'reply', { threadRootId: root.id });
      await bob.call('PUT', `/api/v1/messages/${root.id}/reactions/:ok:`);
      await ada.call('PATCH', `/api/v1/messages/${root.id}`, { body: 'evented!' });
      await ada.call('PUT', `/api/v1/messages/${root.id}/pin`);
      await ada.call('DELETE', `/api/v1/messages/${reply.id}`);
      const events = await outbox(ch.id);
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'message.created'],
        [2, 'message.created'],
        [3, 'thread.updated'],
        [4, 'reaction.added'],
        [5, 'message.updated'],
        [6, 'message.pinned'],
        [7, 'message.deleted'],
        [8, 'thread.updated'],
      ]);
      const created = events[0]!.payload as {
        conversation_id: string;
        message: { id: string; seq: number };
      };
      expect(created).toMatchObject({
        channelId: ch.id,
        conversation_id: ch.id,
        message: { id: root.id, seq: 1 },
      });
      expect(events[1]!.payload).toMatchObject({
        message: { id: reply.id, seq: 2, threadRootId: root.id },
      });
      const deadline = Date.now() + 5000;
      while (socket.events(channelTopic(ch.id)).length < events.length && Date.now() < deadline) {
        await socket.next(() => false, 50).catch(() => undefined);
      }
      const delivered = socket.events(channelTopic(ch.id));
      expect(delivered.map((e) => [e.seq, e.type])).toEqual(events.map((e) => [e.seq, e.type]));
    } finally {
      socket.close();
    }
  });

  it('keeps seqs, message JSON and counts consistent under concurrent writers', async () => {
    const ch = await channel('public', [ada.id, bob.id, cyd.id]);
    const sent = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post([ada, bob, cyd][i % 3]!, ch.id, `burst ${i}`)),
    );
    expect(sent.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const popular = sent[0]!;
    await Promise.all(
      [ada, bob, cyd].map((user) =>
        user.call('PUT', `/api/v1/messages/${popular.id}/reactions/:ok:`),
      ),
    );
    const events = await outbox(ch.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    for (const event of events.slice(0, 12)) {
      expect((event.payload.message as { seq: number }).seq).toBe(event.seq);
    }
    expect(events.slice(12).map((e) => e.payload.count)).toEqual([1, 2, 3]);
  });

  it('sends through the exported command as the WebSocket op will', async () => {
    const { sendMessage, addReaction, removeReaction } = await import('./index.js');
    const ctx = t.server.chat.context;
    const sent = await sendMessage(ctx, ada.id, {
      channelId: general.id,
      body: 'from a socket',
      clientMsgId: 'ws-1',
    });
    expect(sent).toMatchObject({
      created: true,
      message: { body: 'from a socket', clientMsgId: 'ws-1' },
    });
    const again = await sendMessage(ctx, ada.id, {
      channelId: general.id,
      body: 'from a socket',
      clientMsgId: 'ws-1',
    });
    expect(again).toMatchObject({ created: false, message: { id: sent.message.id } });
    const reacted = await addReaction(ctx, bob.id, sent.message.id, '🎉');
    expect(reacted.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [bob.id], me: true }]);
    expect((await removeReaction(ctx, bob.id, sent.message.id, '🎉')).reactions).toEqual([]);
    await expect(
      sendMessage(ctx, cyd.id, { channelId: general.id, body: 'x' }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
  });
});
