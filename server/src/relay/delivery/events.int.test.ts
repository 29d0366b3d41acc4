// The agent stream over real HTTP: exact framing, the queued backlog before `connected` and live
// events after, Last-Event-ID resume without duplicates or gaps, delivered marking, the
// session stream's pairing notices, heartbeats and shutdown.
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test-support/processes.js';
import { startTestServer, type TestServer } from '../../test-support/server.js';
import { target } from '../../test-support/services.js';
import type { RelayContext } from '../context.js';
import { createSession, expirePendingSessions, pairConversation } from '../pairing/index.js';
import { inboundMessages } from '../schema.js';
import { selectInboundRows } from '../messages/inbound-rows.js';
import { accountTopic } from '../topics.js';
import { makeAccount, openStream, queueMessage } from '../openclaw/test-fixtures.js';

describe(`relay agent stream (${target})`, () => {
  let t: TestServer;
  let ctx: RelayContext;

  beforeAll(async () => {
    t = await startTestServer({ env: { REALTIME_PING_INTERVAL_SECONDS: '1' } });
    ctx = t.server.relay.context;
  });
  afterAll(() => t?.stop());

  const statusOf = async (ids: string[]) => {
    const rows = await ctx.db
      .select({ id: inboundMessages.id, status: inboundMessages.status })
      .from(inboundMessages)
      .where(inArray(inboundMessages.id, ids));
    return Object.fromEntries(rows.map((r) => [r.id, r.status]));
  };
  const allDelivered = (ids: string[]) =>
    waitFor(`${ids.length} messages delivered`, async () => {
      const statuses = await statusOf(ids);
      return ids.every((id) => statuses[id] === 'delivered') ? true : undefined;
    });

  it('writes queued messages, then connected, then live events, in exact LF frames', async () => {
    const account = await makeAccount(ctx);
    const first = await queueMessage(ctx, account.id, { text: 'first' });
    const second = await queueMessage(ctx, account.id, { text: 'second' });
    const stream = await openStream(t.url, account.token);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(stream.headers.connection).toBe('keep-alive');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    await stream.eventsOf('connected', 1);
    const live = await queueMessage(ctx, account.id, { text: 'live' });
    await stream.eventsOf('message', 3);

    const [row] = await selectInboundRows(ctx.db).where(eq(inboundMessages.id, first.id));
    // Byte for byte: id, event and one data line, LF only, a blank line after each event.
    const frame = /^id: (\d+)\nevent: message\ndata: ([^\n]+)\n\n/.exec(stream.text());
    expect(frame?.[1]).toBe(String(first.seq));
    expect(JSON.parse(frame![2]!)).toEqual({
      type: 'message',
      id: first.id,
      conversationKey: 'bot-1:user-1',
      kakaoPayload: row!.kakaoPayload,
      normalized: { userId: 'user-1', text: 'first', channelId: 'bot-1' },
      createdAt: row!.createdAt.toISOString(),
    });
    expect(stream.text()).not.toContain('\r');
    const connected = `event: connected\ndata: ${JSON.stringify({ accountId: account.id, sessionId: '', status: 'paired' })}\n\n`;
    expect(stream.text()).toContain(connected);
    expect(stream.events().map((e) => [e.event, e.id, e.data.id])).toEqual([
      ['message', String(first.seq), first.id],
      ['message', String(second.seq), second.id],
      ['connected', undefined, undefined],
      ['message', String(live.seq), live.id],
    ]);
    // Every written message is delivered, replayed or live.
    await allDelivered([first.id, second.id, live.id]);
    // An agent is a service, not a person: its stream does not make anyone online.
    await ctx.realtime.presence.flush();
    expect(ctx.realtime.hub.userConnectionCount(`relay-account:${account.id}`)).toBe(1);
    expect(await ctx.realtime.presence.isOnline(`relay-account:${account.id}`)).toBe(false);
    stream.close();
  });

  it('resumes after Last-Event-ID without duplicates or gaps, skipping answered messages', async () => {
    const account = await makeAccount(ctx);
    const a = await queueMessage(ctx, account.id);
    const first = await openStream(t.url, account.token);
    await first.eventsOf('connected', 1);
    const b = await queueMessage(ctx, account.id);
    await first.eventsOf('message', 2);
    first.close();
    // Missed while away: c and d; d is answered (acked) before the agent is back.
    const c = await queueMessage(ctx, account.id);
    const d = await queueMessage(ctx, account.id);
    await ctx.db
      .update(inboundMessages)
      .set({ status: 'acked' })
      .where(eq(inboundMessages.id, d.id));
    const again = await openStream(t.url, account.token, { lastEventId: String(b.seq) });
    await again.eventsOf('connected', 1);
    const e = await queueMessage(ctx, account.id);
    await again.eventsOf('message', 2);
    expect(again.events().map((x) => [x.event, x.id])).toEqual([
      ['message', String(c.seq)],
      ['connected', undefined],
      ['message', String(e.seq)],
    ]);
    expect(a.seq).toBeLessThan(b.seq);
    await allDelivered([a.id, b.id, c.id, e.id]);
    again.close();

    // An id that is not this topic's (a session stream's `s3`, or past the head) starts afresh.
    const fresh = await openStream(t.url, account.token, { lastEventId: 's3' });
    await fresh.eventsOf('connected', 1);
    expect(fresh.events().filter((x) => x.event === 'message')).toEqual([]);
    fresh.close();
  });

  it('sends the open messages history no longer covers when a resume point was trimmed', async () => {
    const account = await makeAccount(ctx);
    const a = await queueMessage(ctx, account.id);
    const b = await queueMessage(ctx, account.id);
    // Outbox retention removed the events' rows; the messages are still open.
    await ctx.db.execute(sql`delete from core.outbox where topic = ${accountTopic(account.id)}`);
    const stream = await openStream(t.url, account.token, { lastEventId: '0' });
    await stream.eventsOf('connected', 1);
    expect(stream.events().map((x) => [x.event, x.id])).toEqual([
      ['message', String(a.seq)],
      ['message', String(b.seq)],
      ['connected', undefined],
    ]);
    stream.close();
  });

  it('ends a session stream after pairing_complete; the token then streams the account', async () => {
    const session = await createSession(ctx);
    const pending = await openStream(t.url, session.sessionToken);
    expect(pending.status).toBe(200);
    const [connected] = await pending.eventsOf('connected', 1);
    expect(connected!.data).toEqual({
      accountId: '',
      sessionId: session.sessionId,
      status: 'pending_pairing',
    });
    const outcome = await pairConversation(
      ctx,
      { conversationKey: 'bot-1:pairer', kakaoChannelId: 'bot-1', plusfriendUserKey: 'pairer' },
      session.pairingCode,
    );
    expect(outcome.kind).toBe('paired');
    const [complete] = await pending.eventsOf('pairing_complete', 1);
    expect(complete!.id).toBe('s1');
    expect(complete!.data).toMatchObject({ kakaoUserId: 'pairer', accountId: expect.any(String) });
    await pending.ended();

    const accountId = complete!.data.accountId as string;
    const bound = await openStream(t.url, session.sessionToken, { lastEventId: 's1' });
    expect(bound.status).toBe(200);
    const [again] = await bound.eventsOf('connected', 1);
    expect(again!.data).toEqual({ accountId, sessionId: session.sessionId, status: 'paired' });
    const message = await queueMessage(ctx, accountId);
    const [live] = await bound.eventsOf('message', 1);
    expect(live!.data.id).toBe(message.id);
    // The account topic's own pairing_complete came before the stream's start: not repeated.
    expect(bound.events().filter((x) => x.event === 'pairing_complete')).toEqual([]);
    bound.close();
  });

  it('ends a session stream after pairing_expired; the next connect is 410', async () => {
    const session = await createSession(ctx);
    const pending = await openStream(t.url, session.sessionToken);
    await pending.eventsOf('connected', 1);
    await ctx.pipeline.transaction((tx, outbox) =>
      expirePendingSessions(tx, outbox, new Date(Date.now() + 3_600_000), 100),
    );
    const [expired] = await pending.eventsOf('pairing_expired', 1);
    expect(expired!.data).toEqual({ type: 'pairing_expired', reason: 'expired' });
    await pending.ended();
    const next = await openStream(t.url, session.sessionToken);
    expect(next.status).toBe(410);
    await next.ended();
    expect(JSON.parse(next.text())).toMatchObject({ error: { code: 'session_expired' } });
  });

  it('sends a `: ping` comment on the heartbeat interval', async () => {
    const account = await makeAccount(ctx);
    const stream = await openStream(t.url, account.token);
    await stream.until('a ping', (text) => text.includes('\n\n: ping\n\n'));
    stream.close();
  });

  it('ends open streams cleanly when the server shuts down', async () => {
    const own = await startTestServer();
    const account = await makeAccount(own.server.relay.context);
    const stream = await openStream(own.url, account.token);
    await stream.eventsOf('connected', 1);
    await Promise.all([own.stop(), stream.ended()]);
  });
});
