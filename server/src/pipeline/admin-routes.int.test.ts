// The outbox admin API over a real server: operator access, input validation, dead letters page
// by page, redrive making them due again, and the outbox metrics on /metrics.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processedFlags } from '../test-support/outbox.js';
import { scrape, sampleValue } from '../test-support/metrics-text.js';
import { skipAfterFailure, waitFor } from '../test-support/processes.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import type { DeadLetter } from './index.js';

const run = `a${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const topic = `durable.${run}.admin`;
const base = '/api/v1/admin/outbox';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe(`outbox admin API (${target})`, () => {
  skipAfterFailure();
  let t: TestServer;
  let admin: Record<string, string>;
  let publisher: Record<string, string>;
  /** Events the failing consumer lets through; every other event of its type fails. */
  const healed = new Set<number>();
  const attempts = new Map<number, number>();
  let deadIds: number[] = [];

  beforeAll(async () => {
    t = await startTestServer({
      env: {
        OUTBOX_MAX_ATTEMPTS: '2',
        OUTBOX_RETRY_BASE_MS: '20',
        OUTBOX_RETRY_MAX_MS: '50',
        OUTBOX_POLL_INTERVAL_MS: '50',
        OUTBOX_FAST_PATH_GRACE_MS: '100',
      },
    });
    t.server.pipeline.consumers.register({
      name: 'admin-test',
      types: ['admin-test.*'],
      handle: (event) => {
        attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
        return healed.has(event.id) ? Promise.resolve() : Promise.reject(new Error('not healed'));
      },
    });
    const adminKey = await t.server.push.createApiKey({ name: 'ops', scopes: ['admin'] });
    const publisherKey = await t.server.push.createApiKey({ name: 'app', scopes: ['publish'] });
    admin = { authorization: `Bearer ${adminKey.key}` };
    publisher = { authorization: `Bearer ${publisherKey.key}` };
  });
  afterAll(() => t?.stop());

  async function call(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Answer> {
    const response = await fetch(`${t.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const routes = [
    ['GET', base, undefined],
    ['GET', `${base}/dead-letters`, undefined],
    ['POST', `${base}/dead-letters/redrive`, { all: true }],
  ] as const;

  it.each(routes)('%s %s needs operator credentials', async (method, path, body) => {
    const none = await call(method, path, {}, body);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
    const notAdmin = await call(method, path, publisher, body);
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body).toMatchObject({ error: { code: 'forbidden' } });
    const unknownKey = await call(
      method,
      path,
      { authorization: 'Bearer sbk_000000000000_x' },
      body,
    );
    expect(unknownKey.status).toBe(401);
    const wrongPassword = await call(method, path, { 'x-admin-password': 'wrong-password' }, body);
    expect(wrongPassword.status).toBe(403);
  });

  it('answers the outbox counts to an admin key and to the admin password', async () => {
    const byKey = await call('GET', base, admin);
    expect(byKey).toEqual({
      status: 200,
      body: { pending: 0, oldestPendingSeconds: 0, deadLetters: 0 },
    });
    const byPassword = await call('GET', base, { 'x-admin-password': t.config.ADMIN_PASSWORD });
    expect(byPassword.status).toBe(200);
    const empty = await call('GET', `${base}/dead-letters`, admin);
    expect(empty).toEqual({ status: 200, body: { items: [], nextCursor: null } });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['after=-1', 'after'],
    ['after=1.5', 'after'],
    ['cursor=3', 'cursor'],
  ])('refuses the query %s', async (query, field) => {
    const answer = await call('GET', `${base}/dead-letters?${query}`, admin);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect((answer.body.error as { message: string }).message).toContain(field);
  });

  it.each([
    [{}, 'exactly one'],
    [{ ids: [1], all: true }, 'exactly one'],
    [{ ids: [] }, 'at least one'],
    [{ ids: [0] }, 'ids.0'],
    [{ ids: ['7'] }, 'ids.0'],
    [{ all: false }, 'all'],
    [{ all: true, force: true }, 'force'],
    [[1, 2], 'expected object'],
  ])('refuses the redrive body %j', async (body, hint) => {
    const answer = await call('POST', `${base}/dead-letters/redrive`, admin, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect((answer.body.error as { message: string }).message).toContain(hint);
  });

  it('refuses a redrive body that is not JSON', async () => {
    const answer = await call('POST', `${base}/dead-letters/redrive`, admin, '{"ids": [1');
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_json' } });
  });

  it('lists dead letters oldest first, page by page', async () => {
    for (let n = 1; n <= 3; n++) {
      await t.server.pipeline.publish([{ type: 'admin-test.failed', topic, payload: { n } }]);
    }
    await waitFor(
      'three dead letters',
      async () => ((await t.server.pipeline.stats()).deadLetters === 3 ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 25 },
    );
    const first = await call('GET', `${base}/dead-letters?limit=2`, admin);
    expect(first.status).toBe(200);
    const firstItems = first.body.items as DeadLetter[];
    expect(firstItems.map((l) => l.seq)).toEqual([1, 2]);
    expect(firstItems[0]).toMatchObject({
      type: 'admin-test.failed',
      topic,
      pending: ['admin-test'],
      retryCount: 2,
      error: expect.stringContaining('not healed') as string,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) as string,
      deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/) as string,
    });
    expect(first.body.nextCursor).toBe(String(firstItems[1]!.id));

    const second = await call(
      'GET',
      `${base}/dead-letters?limit=2&after=${first.body.nextCursor as string}`,
      admin,
    );
    const secondItems = second.body.items as DeadLetter[];
    expect(secondItems.map((l) => l.seq)).toEqual([3]);
    expect(second.body.nextCursor).toBeNull();
    deadIds = [...firstItems, ...secondItems].map((l) => l.id);

    // The default page holds all three; past the last one the page is empty, never null.
    const all = await call('GET', `${base}/dead-letters`, admin);
    expect((all.body.items as DeadLetter[]).map((l) => l.id)).toEqual(deadIds);
    const past = await call('GET', `${base}/dead-letters?after=${deadIds[2]!}`, admin);
    expect(past.body).toEqual({ items: [], nextCursor: null });
    expect((await call('GET', base, admin)).body).toMatchObject({ pending: 0, deadLetters: 3 });
  });

  it('shows outbox counts, publishes and commit-to-publish latency on /metrics', async () => {
    const before = await scrape(t.url);
    await t.server.pipeline.publish([{ type: 'note.created', topic, payload: { ok: true } }]);
    const after = await waitFor(
      'the fast-path publish counted',
      async () => {
        const text = await scrape(t.url);
        const published =
          sampleValue(text, 'outbox_published_total', { path: 'fast' }) -
          sampleValue(before, 'outbox_published_total', { path: 'fast' });
        // The gauges are read from the database at most once a second.
        return published >= 1 && sampleValue(text, 'outbox_dead_letters') === 3 ? text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(
      sampleValue(after, 'outbox_commit_to_publish_seconds_count', { path: 'fast' }) -
        sampleValue(before, 'outbox_commit_to_publish_seconds_count', { path: 'fast' }),
    ).toBeGreaterThanOrEqual(1);
    expect(after).toContain('# TYPE outbox_pending_rows gauge');
    expect(after).toContain('# TYPE outbox_lag_seconds gauge');
    expect(after).toMatch(/^outbox_pending_rows \d+$/m);
    expect(after).toMatch(/^outbox_lag_seconds [\d.e-]+$/m);
    expect(sampleValue(after, 'outbox_retries_total', { reason: 'failed' })).toBeGreaterThanOrEqual(
      6,
    );
    expect(sampleValue(after, 'outbox_dead_lettered_total')).toBe(3);
  });

  async function processed(id: number): Promise<boolean> {
    const [flag] = await processedFlags(t.server.store.db, sql`o.id = ${id}`);
    return flag === true;
  }

  it('redrives chosen dead letters: they are due again and their consumer runs', async () => {
    const [chosen, ...rest] = deadIds as [number, ...number[]];
    const triedBefore = attempts.get(chosen) ?? 0;
    healed.add(chosen);
    const answer = await call('POST', `${base}/dead-letters/redrive`, admin, {
      ids: [chosen, chosen, 99_999_999],
    });
    expect(answer).toEqual({ status: 200, body: { redriven: 1 } });
    await waitFor('the redriven event processed', async () =>
      (await processed(chosen)) ? true : undefined,
    );
    expect(attempts.get(chosen)).toBe(triedBefore + 1);
    const left = await call('GET', `${base}/dead-letters`, admin);
    expect((left.body.items as DeadLetter[]).map((l) => l.id)).toEqual(rest);
  });

  it('redrives every dead letter with `all`, each with fresh attempts', async () => {
    const rest = deadIds.slice(1);
    const answer = await call('POST', `${base}/dead-letters/redrive`, admin, { all: true });
    expect(answer).toEqual({ status: 200, body: { redriven: 2 } });
    // Still failing: two more attempts each, then they are dead letters again.
    await waitFor(
      'the redriven events dead-lettered again',
      async () => {
        const letters = await t.server.pipeline.deadLetters(0, 10);
        const again = rest.every((id) => (attempts.get(id) ?? 0) >= 4);
        return again && letters.length === 2 ? letters : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 25 },
    );
    for (const id of rest) healed.add(id);
    expect((await call('POST', `${base}/dead-letters/redrive`, admin, { all: true })).body).toEqual(
      { redriven: 2 },
    );
    await waitFor(
      'an empty outbox',
      async () => {
        const stats = await t.server.pipeline.stats();
        return stats.pending === 0 && stats.deadLetters === 0 ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 25 },
    );
    expect((await call('POST', `${base}/dead-letters/redrive`, admin, { all: true })).body).toEqual(
      { redriven: 0 },
    );
  });
});
