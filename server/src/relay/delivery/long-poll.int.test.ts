// The long-poll over real HTTP: queued messages at once (and marked delivered), a wait woken by
// the hub when a message is queued, and an empty answer when the wait runs out.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test-support/processes.js';
import { buffersOf, explainAnalyze } from '../../test-support/query-plans.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { call, makeAccount, queueMessage } from '../openclaw/test-fixtures.js';
import { inboundMessages } from '../schema.js';
import { accountTopic } from '../topics.js';
import { claimQueuedStatement } from './inbound-queries.js';

describe(`relay long-poll (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;

  beforeAll(async () => {
    t = await startTestServer();
    ctx = t.server.relay.context;
  });
  afterAll(() => t?.stop());

  const poll = (token: string, query = '') =>
    call(t.url, 'GET', `/openclaw/messages${query}`, { token });

  it('returns queued messages at once, oldest first, in pages, and marks them delivered', async () => {
    const account = await makeAccount(ctx);
    const queued = [];
    for (let i = 0; i < 3; i++) {
      queued.push(
        await queueMessage(ctx, account.id, {
          text: `m${i}`,
          callbackUrl: 'https://x.kakao.com/cb',
        }),
      );
    }
    const page = await poll(account.token, '?limit=2');
    expect(page.status).toBe(200);
    expect(page.body.hasMore).toBe(true);
    expect(page.body.messages).toHaveLength(2);
    expect(page.body.messages[0]).toEqual({
      id: queued[0]!.id,
      conversationKey: 'bot-1:user-1',
      payload: expect.objectContaining({ bot: { id: 'bot-1' } }),
      normalized: { userId: 'user-1', text: 'm0', channelId: 'bot-1' },
      callbackUrl: 'https://x.kakao.com/cb',
      callbackExpiresAt: expect.any(String),
      createdAt: expect.any(String),
    });
    expect(page.body.messages[1].id).toBe(queued[1]!.id);
    const rest = await poll(account.token);
    expect(rest.body).toMatchObject({ hasMore: false, messages: [{ id: queued[2]!.id }] });
    const rows = await ctx.db
      .select({ status: inboundMessages.status, deliveredAt: inboundMessages.deliveredAt })
      .from(inboundMessages)
      .where(eq(inboundMessages.accountId, account.id));
    expect(rows.every((r) => r.status === 'delivered' && r.deliveredAt)).toBe(true);
    expect((await poll(account.token)).body).toEqual({ messages: [], hasMore: false });
    expect((await poll(account.token, '?wait=31')).status).toBe(400);
    expect((await poll(account.token, '?limit=0')).status).toBe(400);
  });

  it('waits for a message through the hub and answers as soon as one is queued', async () => {
    const account = await makeAccount(ctx);
    const hub = ctx.realtime.hub;
    const waiting = poll(account.token, '?wait=30');
    // The wait is a hub subscriber of the account topic, not a database poll.
    await waitFor('the long-poll to subscribe', () =>
      Promise.resolve(
        [...hub.allConnections()].some((c) => c.isSubscribed(accountTopic(account.id)))
          ? true
          : undefined,
      ),
    );
    const started = Date.now();
    const message = await queueMessage(ctx, account.id, { text: 'wake up' });
    const answer = await waiting;
    expect(answer.body).toMatchObject({ hasMore: false, messages: [{ id: message.id }] });
    // Answered before the wait ran out: woken by the event.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(hub.userConnectionCount(`relay-account:${account.id}`)).toBe(0);
  });

  it('answers an empty list when the wait runs out', async () => {
    const account = await makeAccount(ctx);
    const answer = await poll(account.token, '?wait=1');
    expect(answer).toMatchObject({ status: 200, body: { messages: [], hasMore: false } });
  });

  it('drains a backlog page by page without walking past the pages already claimed', async () => {
    const account = await makeAccount(ctx);
    // An agent that was away: 1,500 queued messages, about five to a heap page (a long callback
    // URL stands in for the columns a wider row would have), and statistics that know it.
    await ctx.db.execute(sql`
      with inserted as (
        insert into relay.inbound_messages (account_id, conversation_key, callback_url, status,
          event_seq)
        select ${account.id}::uuid, 'bot-1:user-1',
          (select string_agg(md5(n::text || i::text), '') from generate_series(1, 45) i),
          'queued', n
        from generate_series(1, 1500) n
        returning id
      )
      insert into relay.inbound_message_bodies (message_id, kakao_payload, normalized_message)
      select id, '{}'::jsonb, '{}'::jsonb from inserted`);
    await ctx.db.execute(sql`analyze relay.inbound_messages`);
    for (let page = 0; page < 14; page++) {
      await ctx.db.execute(claimQueuedStatement(account.id, 100, new Date()));
    }
    const plan = await explainAnalyze(ctx.db, claimQueuedStatement(account.id, 100, new Date()));
    // The scan that picks the page (the update of the 100 rows it picked comes on top).
    const scan = plan.findIndex((line) => /Scan .*on inbound_messages/.test(line));
    expect(scan, plan.join('\n')).toBeGreaterThanOrEqual(0);
    expect(plan[scan]).toContain('rows=100');
    // The page's own rows and index entries, not the 280 heap pages claimed before it.
    expect(buffersOf(plan, scan)).toBeLessThan(150);
  });
});
