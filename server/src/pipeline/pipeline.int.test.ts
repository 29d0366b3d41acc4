// The durable pipeline in one process: transactional writes, the fast path, relay workers taking
// over, per-consumer retries, dead letters, resume from PostgreSQL and retention.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../store/index.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { processedFlags } from '../test-support/outbox.js';
import { buffersOf, explainAnalyze } from '../test-support/query-plans.js';
import { connectWs } from '../test-support/ws-client.js';
import type { OutboxRecord } from './index.js';
import { dueEventsQuery, markProcessed, PLAIN_INDEX_SCANS } from './outbox-queries.js';
import { runRetention } from './retention.js';

const run = `p${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topicOf = (name: string) => `durable.${run}.${name}`;

async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Socket = Awaited<ReturnType<typeof connectWs>>;

/** Waits until the socket has `count` events of the topic, and returns them. */
async function eventsOf(socket: Socket, topic: string, count: number) {
  await until(() => (socket.events(topic).length >= count ? true : undefined), 5000);
  return socket.events(topic);
}

describe(`durable pipeline (${target})`, () => {
  let t: TestServer;
  const poisoned: number[] = [];
  beforeAll(async () => {
    t = await startTestServer({
      env: {
        OUTBOX_RETRY_BASE_MS: '20',
        OUTBOX_RETRY_MAX_MS: '100',
        OUTBOX_POLL_INTERVAL_MS: '100',
        OUTBOX_FAST_PATH_GRACE_MS: '200',
      },
    });
    t.server.pipeline.consumers.register({
      name: 'poison-test',
      types: ['test.poison'],
      handle: (event) => {
        poisoned.push(event.id);
        return Promise.reject(new Error('always fails'));
      },
    });
  });
  afterAll(() => t?.stop());

  async function subscriber(topic: string) {
    const token = await t.token('reader', { topics: [`durable.${run}.*`] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    expect(await socket.request({ op: 'subscribe', topics: [topic] })).toMatchObject({
      success: true,
    });
    return socket;
  }

  it('commits events with the domain transaction and publishes them once, in seq order', async () => {
    const topic = topicOf('a');
    const socket = await subscriber(topic);
    const records = await t.server.pipeline.transaction(async (tx, outbox) => {
      await tx.execute(sql`select 1`);
      return outbox.append([
        { type: 'note.created', topic, payload: { n: 1 } },
        { type: 'note.created', topic, payload: { n: 2 } },
      ]);
    });
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { n: 3 } }]);
    const events = await eventsOf(socket, topic, 3);
    expect(events.map((e) => [e.seq, e.n, e.type])).toEqual([
      [1, 1, 'note.created'],
      [2, 2, 'note.created'],
      [3, 3, 'note.created'],
    ]);
    const processed = await until(async () => {
      const flags = await processedFlags(t.server.store.db, sql`o.topic = ${topic}`);
      return flags.every(Boolean) && flags.length === 3 ? flags : undefined;
    });
    expect(processed).toHaveLength(3);
    socket.close();
  });

  it('commits concurrent publishes together, each caller getting its own records', async () => {
    const topics = [topicOf('group-a'), topicOf('group-b'), topicOf('group-c')];
    const calls = Array.from({ length: 200 }, (_, call) =>
      t.server.pipeline.publish(
        Array.from({ length: 1 + (call % 2) }, (_, part) => ({
          type: 'note.created',
          topic: topics[(call + part) % 3]!,
          payload: { call, part },
        })),
      ),
    );
    const results = await Promise.all(calls);
    results.forEach((records, call) => {
      expect(records.map((r) => r.payload)).toEqual(
        Array.from({ length: 1 + (call % 2) }, (_, part) => ({ call, part })),
      );
    });
    for (const topic of topics) {
      const seqs = results
        .flat()
        .filter((r) => r.topic === topic)
        .map((r) => r.seq)
        .sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    await until(async () => ((await t.server.pipeline.stats()).pending === 0 ? true : undefined));
  });

  it('never publishes or sequences events of a rolled-back transaction', async () => {
    const topic = topicOf('rollback');
    const socket = await subscriber(topic);
    await expect(
      t.server.pipeline.transaction(async (_tx, outbox) => {
        await outbox.append([{ type: 'note.created', topic, payload: { lost: true } }]);
        throw new Error('domain check failed');
      }),
    ).rejects.toThrow('domain check failed');
    const [kept] = await t.server.pipeline.publish([{ type: 'note.created', topic, payload: {} }]);
    expect(kept?.seq).toBe(1);
    const event = await socket.next((f) => f.op === 'event');
    expect(event).toMatchObject({ seq: 1 });
    expect(event.lost).toBeUndefined();
    socket.close();
  });

  it('refuses topics that are not durable, and direct publishes to durable ones', async () => {
    await expect(
      t.server.pipeline.publish([{ type: 'x', topic: `plain.${run}`, payload: {} }]),
    ).rejects.toThrow(/not a durable topic/);
    await expect(t.server.realtime.hub.publish(topicOf('direct'), { type: 'x' })).rejects.toThrow(
      /durable topic/,
    );
  });

  it('resumes a durable topic from PostgreSQL, exactly once and in order', async () => {
    const topic = topicOf('resume');
    for (let n = 1; n <= 5; n++) {
      await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { n } }]);
    }
    const token = await t.token('reader', { topics: [`durable.${run}.*`] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await socket.request({ op: 'subscribe', topics: [topic], positions: { [topic]: 2 } });
    const replay = await eventsOf(socket, topic, 3);
    expect(replay.map((e) => [e.seq, e.n])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { n: 6 } }]);
    expect((await eventsOf(socket, topic, 4))[3]).toMatchObject({ seq: 6, n: 6 });
    socket.close();
  });

  it('publishes through the HTTP publish API into the outbox for durable topics', async () => {
    const topic = topicOf('http');
    const socket = await subscriber(topic);
    const key = await t.server.push.createApiKey({ name: 'pipeline test' });
    const response = await fetch(`${t.url}/api/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic, event: { type: 'order.paid', orderId: 7 } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ topic, seq: 1 });
    expect(await socket.next((f) => f.op === 'event')).toMatchObject({
      type: 'order.paid',
      orderId: 7,
      seq: 1,
    });
    socket.close();
  });

  it('retries only the failing consumer and dead-letters after the last attempt', async () => {
    const topic = topicOf('poison');
    const socket = await subscriber(topic);
    const [poison] = await t.server.pipeline.publish([
      { type: 'test.poison', topic, payload: { bad: true } },
    ]);
    await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { good: true } }]);
    // The realtime consumer succeeded on the first try: both events arrive once each.
    const [bad, good] = await eventsOf(socket, topic, 2);
    expect(bad).toMatchObject({ seq: 1, bad: true });
    expect(good).toMatchObject({ seq: 2, good: true });
    const dead = await until(async () => {
      const letters = await t.server.pipeline.deadLetters(0, 100);
      return letters.find((l) => l.id === poison!.id);
    });
    expect(dead).toMatchObject({ pending: ['poison-test'], retryCount: 5 });
    expect(dead.error).toContain('always fails');
    expect(poisoned.filter((id) => id === poison!.id)).toHaveLength(5);
    const stats = await t.server.pipeline.stats();
    expect(stats.deadLetters).toBeGreaterThanOrEqual(1);

    expect(await t.server.pipeline.redrive([poison!.id])).toBe(1);
    await until(() => (poisoned.filter((id) => id === poison!.id).length >= 10 ? true : undefined));
    // Redriving ran the failing consumer again, never the realtime one: no duplicate event.
    await new Promise((r) => setTimeout(r, 100));
    expect(socket.frames.filter((f) => f.op === 'event' && f.seq === 1)).toHaveLength(1);
    socket.close();
  });

  it('deletes processed events past the retention age, and keeps the rest', async () => {
    const topic = topicOf('retention');
    const [old] = await t.server.pipeline.publish([{ type: 'note.created', topic, payload: {} }]);
    await until(async () => {
      const [processed] = await processedFlags(t.server.store.db, sql`o.id = ${old!.id}`);
      return processed ? true : undefined;
    });
    await t.server.store.db.execute(
      sql`update core.outbox set created_at = now() - interval '2 hours' where id = ${old!.id}`,
    );
    const retention = {
      db: t.server.store.db,
      retentionSeconds: 3600,
      intervalMs: 1000,
      logger: t.server.app.log as never,
    };
    const deleted = await runRetention(retention);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = rowsOf<{ id: string }>(
      await t.server.store.db.execute(sql`select id from core.outbox where id = ${old!.id}`),
    );
    expect(left).toEqual([]);
    // An event as old with work left on it (a dead letter, say) stays.
    const [kept] = rowsOf<{ id: string }>(
      await t.server.store.db.execute(sql`
        with event as (
          insert into core.outbox (type, topic, seq, payload, created_at)
          values ('note.created', ${topicOf('retention-kept')}, 1, '{}', now() - interval '2 hours')
          returning id
        )
        insert into core.outbox_work (event_id, pending, dead_lettered_at)
        select id, '{poison-test}', now() from event
        returning event_id::text as id`),
    );
    await runRetention(retention);
    expect(await processedFlags(t.server.store.db, sql`o.id = ${kept!.id}`)).toEqual([false]);
    await t.server.store.db.execute(sql`delete from core.outbox_work where event_id = ${kept!.id}`);
    // A resume from before the deleted event now says so instead of skipping it.
    const token = await t.token('reader', { topics: [`durable.${run}.*`] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await socket.request({ op: 'subscribe', topics: [topic], positions: { [topic]: 0 } });
    expect(await socket.next((f) => f.op === 'resync_required')).toMatchObject({
      topic,
      reason: 'history_trimmed',
    });
    socket.close();
  });

  it("claims due events without reading processed events' heap pages on every poll", async () => {
    const topic = topicOf('claim-scan');
    const db = t.server.store.db;
    // 2,000 events past their turn and processed in the same transaction (so no worker takes
    // them first): the entries of their deleted work rows stay in the due index until vacuum.
    const workPages = await db.transaction(async (tx) => {
      await tx.execute(sql`
        with events as (
          insert into core.outbox (type, topic, seq, payload)
          select 'note.created', ${topic}, n, '{}'::jsonb from generate_series(1, 2000) n
          returning id
        )
        insert into core.outbox_work (event_id, pending, error, available_at)
        select id, '{}', repeat('x', 200), now() - interval '1 minute' from events`);
      const [work] = rowsOf<{ pages: number }>(
        await tx.execute(sql`
          select count(distinct (w.ctid::text::point)[0])::int as pages
          from core.outbox_work w join core.outbox o on o.id = w.event_id
          where o.topic = ${topic}`),
      );
      await tx.execute(sql`delete from core.outbox_work w using core.outbox o
        where o.id = w.event_id and o.topic = ${topic}`);
      return work!.pages;
    });
    // A few polls of the worker (every 100 ms here) pass over them.
    await new Promise((r) => setTimeout(r, 500));
    const plan = await db.transaction(async (tx) => {
      await tx.execute(PLAIN_INDEX_SCANS);
      return explainAnalyze(tx, dueEventsQuery(500));
    });
    expect(plan.join('\n')).toContain('outbox_work_due_idx');
    // The index's leaf pages, not the heap pages of the deleted work rows.
    expect(workPages).toBeGreaterThan(40);
    expect(buffersOf(plan)).toBeLessThan(workPages / 2);
  });

  it("never rewrites an event's row: marking it processed deletes its work row", async () => {
    const topic = topicOf('processed-mark');
    const db = t.server.store.db;
    const records = await t.server.pipeline.publish(
      Array.from({ length: 5 }, (_, i) => ({ type: 'note.created', topic, payload: { i } })),
    );
    const versions = sql`select ctid::text, xmin::text from core.outbox
      where topic = ${topic} order by id`;
    const before = rowsOf(await db.execute(versions));
    await markProcessed(
      db,
      records.map((r) => r.id),
    );
    expect(await processedFlags(db, sql`o.topic = ${topic}`)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    // The same tuples: a mark never logs an event (its payload) again.
    expect(rowsOf(await db.execute(versions))).toEqual(before);
  });
});

describe(`relay workers without the fast path (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      env: { OUTBOX_FAST_PATH: 'false', OUTBOX_POLL_INTERVAL_MS: '50' },
    });
  });
  afterAll(() => t?.stop());

  it('publishes every committed event from the worker, in order', async () => {
    const topic = topicOf('worker');
    const token = await t.token('reader', { topics: [`durable.${run}.*`] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await socket.request({ op: 'subscribe', topics: [topic] });
    const records: OutboxRecord[] = [];
    for (let i = 0; i < 20; i++) {
      records.push(
        ...(await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { i } }])),
      );
    }
    const seen = (await eventsOf(socket, topic, 20)).map((e) => e.seq);
    expect(seen).toEqual(records.map((r) => r.seq));
    await until(async () => ((await t.server.pipeline.stats()).pending === 0 ? true : undefined));
    socket.close();
  });
});
