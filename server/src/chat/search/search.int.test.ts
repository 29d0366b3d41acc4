// Message search over HTTP: CJK substrings, identifiers and URLs, ranking, the query language's
// filters, snippets, paging, and privacy (private channels, DMs, other workspaces and deleted
// messages never show up).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../ids.js';
import { messages, reactions } from '../schema.js';
import { makeChatUser, type ChatTestUser } from '../test-support/api.js';
import { makeChannel, makeWorkspace } from '../test-support/factories.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';

const DAY = 86_400_000;

describe(`chat message search (${target})`, () => {
  let t: TestServer;
  let alice: ChatTestUser;
  let bob: ChatTestUser;
  let dave: ChatTestUser;
  let carol: ChatTestUser;
  const ids: Record<string, string> = {};
  const channelIds: Record<string, string> = {};

  const search = (user: ChatTestUser, q: string, extra = '') =>
    user.call('GET', `/api/v1/messages/search?q=${encodeURIComponent(q)}${extra}`);

  /** The ids of every result of `q`, across all pages. */
  async function found(user: ChatTestUser, q: string, extra = ''): Promise<string[]> {
    const response = await search(user, q, extra);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body.items as { message: { id: string } }[]).map((item) => item.message.id);
  }

  const named = (list: string[]) =>
    list.map((id) => Object.entries(ids).find(([, v]) => v === id)?.[0] ?? id);

  beforeAll(async () => {
    t = await startTestServer();
    [alice, bob, dave, carol] = await Promise.all([
      makeChatUser(t.server, 'alice'),
      makeChatUser(t.server, 'bob'),
      makeChatUser(t.server, 'dave'),
      makeChatUser(t.server, 'carol'),
    ]);
    const db = t.server.store.db;
    const ws = await makeWorkspace(db, { owner: alice.id, members: [bob.id, dave.id] });
    const other = await makeWorkspace(db, { owner: carol.id });
    const channel = (name: string, kind: 'public' | 'private' | 'dm', members: string[]) =>
      makeChannel(db, { workspaceId: ws.id, kind, name, members });
    channelIds.general = (await channel('general', 'public', [alice.id, bob.id])).id;
    channelIds.random = (await channel('random', 'public', [alice.id])).id;
    channelIds.secret = (await channel('secret', 'private', [alice.id, bob.id])).id;
    channelIds.dm = (await channel('dm', 'dm', [alice.id, bob.id])).id;
    channelIds.elsewhere = (
      await makeChannel(db, { workspaceId: other.id, name: 'general', members: [carol.id] })
    ).id;

    let seq = 0;
    const now = Date.now();
    const post = async (
      key: string,
      channel: string,
      author: ChatTestUser,
      body: string,
      extra: Partial<typeof messages.$inferInsert> = {},
    ) => {
      const id = newId();
      ids[key] = id;
      await db.insert(messages).values({
        id,
        channelId: channelIds[channel]!,
        seq: (seq += 1),
        authorId: author.id,
        body,
        createdAt: new Date(now - 60_000 + seq),
        ...extra,
      });
    };
    await post('korean', 'general', bob, '안녕하세요 여러분, 오늘 회의는 3시입니다');
    await post('chinese', 'general', bob, '我们今天讨论搜索功能的设计');
    await post('japanese', 'general', bob, '日本語のテキスト検索テストです');
    await post('identifier', 'general', alice, 'call parseHttpRequest from the snake_case_helper');
    await post('url', 'general', alice, 'docs at https://example.com/guide/setup?step=2 now');
    await post('often', 'random', alice, 'deploy deploy deploy the release');
    await post('once', 'random', alice, 'we should deploy soon, after lunch');
    await post('old', 'general', alice, 'deploy notes from the last quarter', {
      createdAt: new Date(now - 90 * DAY),
    });
    await post('secret', 'secret', alice, 'deploy secret plan zebra');
    await post('dm', 'dm', alice, 'deploy dm zebra');
    await post('elsewhere', 'elsewhere', carol, 'deploy other workspace zebra');
    await post('deleted', 'general', alice, 'zebra tombstone', { deletedAt: new Date() });
    await post('markup', 'general', bob, '<script>alert("x")</script> & zebra crossing');
    await post('pinned', 'general', bob, 'pinned announcement for everyone', {
      pinnedAt: new Date(),
      pinnedBy: alice.id,
      mentionsChannel: true,
    });
    await post('reply', 'general', bob, 'a reply about parseHttpRequest', {
      threadRootId: ids.identifier,
    });
    await db.update(messages).set({ replyCount: 1 }).where(eq(messages.id, ids.identifier!));
    await db.insert(reactions).values({ messageId: ids.url!, userId: bob.id, emoji: ':+1:' });
    await post(
      'long',
      'general',
      bob,
      `${'lorem ipsum dolor sit amet '.repeat(30)}the quokka appeared ${'consectetur adipiscing elit '.repeat(30)}`,
    );
    await post('dated', 'general', bob, 'calendar entry quarterly', {
      createdAt: new Date('2024-03-15T12:00:00Z'),
    });
  }, 60_000);
  afterAll(() => t?.stop());

  it('finds Korean, Chinese and Japanese text by any substring', async () => {
    expect(named(await found(bob, '회의'))).toEqual(['korean']);
    expect(named(await found(bob, '搜索'))).toEqual(['chinese']);
    expect(named(await found(bob, '検索テスト'))).toEqual(['japanese']);
    expect(named(await found(bob, '여러분'))).toEqual(['korean']);
    const response = await search(bob, '搜索');
    expect(response.body.items[0].snippet).toBe('我们今天讨论<mark>搜索</mark>功能的设计');
  });

  it('finds code identifiers by their pieces and URLs by their parts', async () => {
    expect(named(await found(bob, 'parseHttpRequest')).sort()).toEqual(['identifier', 'reply']);
    expect(named(await found(bob, 'http request')).sort()).toEqual(['identifier', 'reply']);
    expect(named(await found(bob, 'snake_case'))).toEqual(['identifier']);
    expect(named(await found(bob, 'helper'))).toEqual(['identifier']);
    expect(named(await found(bob, 'example.com/guide'))).toEqual(['url']);
    expect(named(await found(bob, 'https://example.com'))).toEqual(['url']);
    expect(named(await found(bob, 'step=2'))).toEqual(['url']);
    const snippet = (await search(bob, 'Http')).body.items.find(
      (item: { message: { id: string } }) => item.message.id === ids.identifier,
    ).snippet;
    expect(snippet).toBe('call parse<mark>Http</mark>Request from the snake_case_helper');
  });

  it('ranks by text rank and recency', async () => {
    const order = named(await found(alice, 'deploy'));
    expect(order).toEqual(expect.arrayContaining(['often', 'once', 'old', 'secret', 'dm']));
    expect(order.indexOf('often')).toBeLessThan(order.indexOf('once'));
    expect(order.indexOf('once')).toBeLessThan(order.indexOf('old'));
    expect(order[order.length - 1]).toBe('old');
    const response = await search(alice, 'deploy');
    const scores = response.body.items.map((item: { score: number }) => item.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('keeps private channels, DMs, other workspaces and deleted messages to those who may see them', async () => {
    expect(named(await found(bob, 'zebra')).sort()).toEqual(['dm', 'markup', 'secret']);
    // dave belongs to the workspace but not to the private channel or the DM.
    expect(named(await found(dave, 'zebra'))).toEqual(['markup']);
    expect(await found(dave, 'in:secret')).toEqual([]);
    expect(await found(dave, `in:${channelIds.secret}`)).toEqual([]);
    expect(await found(dave, `in:${channelIds.dm} deploy`)).toEqual([]);
    // Public channels of the workspace are readable without joining them.
    expect(named(await found(dave, 'deploy in:random')).sort()).toEqual(['often', 'once']);
    // carol sees only her own workspace, even for a channel with the same name.
    expect(named(await found(carol, 'zebra'))).toEqual(['elsewhere']);
    expect(named(await found(carol, 'in:general'))).toEqual(['elsewhere']);
    expect(await found(carol, `in:${channelIds.general}`)).toEqual([]);
    expect(await found(alice, 'tombstone')).toEqual([]);
  });

  it('filters by channel, author, date and what a message has', async () => {
    expect(named(await found(alice, 'deploy in:#random')).sort()).toEqual(['often', 'once']);
    expect(named(await found(alice, `deploy in:${channelIds.secret}`))).toEqual(['secret']);
    expect(named(await found(alice, `zebra from:@${bob.username}`))).toEqual(['markup']);
    expect(named(await found(alice, `zebra from:${carol.username}`))).toEqual([]);
    expect(named(await found(alice, `parseHttpRequest from:${alice.id}`))).toEqual(['identifier']);
    expect(named(await found(bob, 'calendar'))).toEqual(['dated']);
    expect(named(await found(bob, 'calendar before:2024-03-16'))).toEqual(['dated']);
    expect(named(await found(bob, 'calendar before:2024-03-15'))).toEqual([]);
    expect(named(await found(bob, 'calendar after:2024-03-14'))).toEqual(['dated']);
    expect(named(await found(bob, 'calendar after:2024-03-15'))).toEqual([]);
    expect(named(await found(bob, 'on:2024-03-15'))).toEqual(['dated']);
    expect(named(await found(bob, 'has:link'))).toEqual(['url']);
    expect(named(await found(bob, 'has:pin'))).toEqual(['pinned']);
    expect(named(await found(bob, 'has:mention'))).toEqual(['pinned']);
    expect(named(await found(bob, 'has:reaction'))).toEqual(['url']);
    expect(named(await found(bob, 'has:thread')).sort()).toEqual(['identifier', 'reply']);
    expect(named(await found(alice, '"deploy the release"'))).toEqual(['often']);
    expect(named(await found(alice, 'deploy -zebra in:random -lunch'))).toEqual(['often']);
  });

  it('returns snippets that are escaped text with <mark> only, cut around matches in long messages', async () => {
    const markup = (await search(bob, 'zebra in:general')).body.items[0];
    expect(markup).toMatchObject({
      message: { id: ids.markup, channelId: channelIds.general, authorId: bob.id },
      channel: { id: channelIds.general, name: 'general', kind: 'public' },
    });
    expect(markup.snippet).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>zebra</mark> crossing',
    );
    const long = (await search(bob, 'quokka')).body.items[0];
    expect(long.snippet).toContain('<mark>quokka</mark>');
    expect(long.snippet.length).toBeLessThan(400);
    expect(long.snippet.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
  });

  it('pages through results without repeats or gaps', async () => {
    const all = await found(alice, 'deploy');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await search(
        alice,
        'deploy',
        `&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(response.status).toBe(200);
      expect(response.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.items.map((item: { message: { id: string } }) => item.message.id));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('refuses bad queries and anonymous callers', async () => {
    expect((await search(bob, '')).status).toBe(400);
    expect((await search(bob, '   ')).status).toBe(400);
    expect((await search(bob, 'has:everything')).body.error.code).toBe('invalid_request');
    expect((await search(bob, 'before:2024-13-01')).status).toBe(400);
    expect((await search(bob, 'zebra', '&cursor=bm9wZQ')).status).toBe(400);
    expect((await search(bob, 'zebra', '&limit=1000')).status).toBe(400);
    const anonymous = await t.server.app.inject({
      method: 'GET',
      url: '/api/v1/messages/search?q=zebra',
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
