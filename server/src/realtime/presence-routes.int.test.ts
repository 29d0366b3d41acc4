// Presence through a real server: the `presence` op with watch, GET /api/v1/presence and the
// operator-only GET /api/v1/nodes; with real Redis, two servers that see each other.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../http/index.js';
import { waitFor } from '../test-support/processes.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { realRedisUrl, skipReason, target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

const run = randomBytes(4).toString('hex');
const user = (name: string) => `${name}-${run}`;

async function presenceOver(t: TestServer, token: string, userIds: string[]) {
  const res = await fetch(`${t.url}/api/v1/presence?userIds=${userIds.join(',')}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe(`presence and nodes over a server (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { INSTANCE_ID: `node-a-${run}` } });
  });
  afterAll(() => t.stop());

  it('answers the presence op and, with watch, delivers presence.changed', async () => {
    const watcher = await connectWs(`${t.wsUrl}/ws?token=${await t.token(user('watcher'))}`);
    const bob = user('bob');
    const reply = await watcher.request({ op: 'presence', userIds: [bob], watch: true });
    expect(reply).toMatchObject({
      op: 'presence',
      success: true,
      presence: [{ userId: bob, online: false }],
    });

    const phone = await connectWs(`${t.wsUrl}/ws?token=${await t.token(bob)}`);
    const laptop = await connectWs(`${t.wsUrl}/ws?token=${await t.token(bob)}`);
    const online = await watcher.next((f) => f.type === 'presence.changed');
    expect(online).toMatchObject({
      op: 'event',
      topic: `presence.${bob}`,
      userId: bob,
      online: true,
    });
    // The second device may land in a later batch than the first.
    const both = await waitFor('both devices counted', async () => {
      const now = await watcher.request({ op: 'presence', userIds: [bob] });
      return (now.presence as Array<{ connections?: number }>)[0]?.connections === 2
        ? now
        : undefined;
    });
    expect(both).toMatchObject({ presence: [{ userId: bob, online: true, connections: 2 }] });

    phone.close();
    await phone.closed;
    laptop.close();
    await laptop.closed;
    const offline = await watcher.next((f) => f.type === 'presence.changed' && f.online === false);
    expect(offline).toMatchObject({ topic: `presence.${bob}`, userId: bob, online: false });
    expect(typeof offline.lastSeen).toBe('number');
    // One device leaving while the other stayed produced nothing in between.
    expect(watcher.events(`presence.${bob}`).map((e) => e.online)).toEqual([true, false]);
    watcher.close();
  });

  it('answers a malformed presence op with invalid_frame', async () => {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token(user('carol'))}`);
    expect(await socket.request({ op: 'presence', userIds: [] })).toMatchObject({
      op: 'error',
      code: 'invalid_frame',
    });
    expect(await socket.request({ op: 'presence' })).toMatchObject({ code: 'invalid_frame' });
    socket.close();
  });

  it('serves GET /api/v1/presence to holders of an access token', async () => {
    const dave = user('dave');
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token(dave)}`);
    const token = await t.token(user('asker'));
    const seen = await waitFor('dave online over HTTP', async () => {
      const { status, body } = await presenceOver(t, token, [dave, user('nobody')]);
      expect(status).toBe(200);
      const list = body.presence as Array<{ online: boolean }>;
      return list[0]?.online ? list : undefined;
    });
    expect(seen).toEqual([
      { userId: dave, online: true, connections: 1 },
      { userId: user('nobody'), online: false },
    ]);
    socket.close();

    const anonymous = await fetch(`${t.url}/api/v1/presence?userIds=${dave}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const forged = await fetch(`${t.url}/api/v1/presence?userIds=${dave}`, {
      headers: { authorization: 'Bearer not.a.token' },
    });
    expect(forged.status).toBe(401);
    const empty = await presenceOver(t, token, []);
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error: { code: 'invalid_request' } });
    const tooMany = await presenceOver(
      t,
      token,
      Array.from({ length: 1001 }, (_, i) => `u${i}`),
    );
    expect(tooMany.status).toBe(400);
  });

  it('lists this node at GET /api/v1/nodes for the operator only', async () => {
    const none = await fetch(`${t.url}/api/v1/nodes`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await fetch(`${t.url}/api/v1/nodes`, {
      headers: { 'x-admin-password': `${t.config.ADMIN_PASSWORD}x` },
    });
    expect(wrong.status).toBe(403);
    // An access token is not an operator credential.
    const user = await fetch(`${t.url}/api/v1/nodes`, {
      headers: { authorization: `Bearer ${await t.token('eve')}` },
    });
    expect(user.status).toBe(401);

    const res = await fetch(`${t.url}/api/v1/nodes`, {
      headers: { 'x-admin-password': t.config.ADMIN_PASSWORD },
    });
    expect(res.status).toBe(200);
    const { nodes } = (await res.json()) as { nodes: Array<Record<string, unknown>> };
    const me = nodes.find((n) => n.id === `node-a-${run}`);
    expect(me).toMatchObject({
      url: t.url,
      roles: ['api', 'gateway', 'worker'],
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown,
    });
    expect(typeof me?.connections).toBe('number');
    expect(Date.parse(me?.startedAt as string)).toBeGreaterThan(0);
  });

  it('lets the composition root replace the operator check', async () => {
    t.server.realtime.useOperatorAuth((request) =>
      request.headers['x-operator'] === 'yes'
        ? Promise.resolve()
        : Promise.reject(new AppError('unauthorized', 'operators only')),
    );
    const byPassword = await fetch(`${t.url}/api/v1/nodes`, {
      headers: { 'x-admin-password': t.config.ADMIN_PASSWORD },
    });
    expect(byPassword.status).toBe(401);
    const byNewCheck = await fetch(`${t.url}/api/v1/nodes`, { headers: { 'x-operator': 'yes' } });
    expect(byNewCheck.status).toBe(200);
  });
});

describe.skipIf(!realRedisUrl)(
  `two servers sharing Redis (${realRedisUrl ? 'real Redis' : `skipped: ${skipReason('Redis')}`})`,
  () => {
    let a: TestServer;
    let b: TestServer;
    const ids = { a: `node-a2-${run}`, b: `node-b2-${run}` };
    beforeAll(async () => {
      [a, b] = await Promise.all([
        startTestServer({ env: { INSTANCE_ID: ids.a } }),
        startTestServer({ env: { INSTANCE_ID: ids.b } }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    const nodesOf = async (t: TestServer) => {
      const res = await fetch(`${t.url}/api/v1/nodes`, {
        headers: { 'x-admin-password': t.config.ADMIN_PASSWORD },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { nodes: Array<{ id: string; url: string }> }).nodes;
    };

    it('each sees the users of the other, and a watcher on one hears changes on the other', async () => {
      const frank = user('frank');
      const watcher = await connectWs(`${a.wsUrl}/ws?token=${await a.token(user('w'))}`);
      await watcher.request({ op: 'presence', userIds: [frank], watch: true });
      const onB = await connectWs(`${b.wsUrl}/ws?token=${await b.token(frank)}`);
      const online = await watcher.next((f) => f.type === 'presence.changed', 10_000);
      expect(online).toMatchObject({ userId: frank, online: true });
      const token = await a.token(user('asker'));
      expect((await presenceOver(a, token, [frank])).body).toEqual({
        presence: [{ userId: frank, online: true, connections: 1 }],
      });
      onB.close();
      const offline = await watcher.next((f) => f.online === false, 10_000);
      expect(offline).toMatchObject({ userId: frank, online: false });
      watcher.close();
    });

    it('lists both nodes, and drops one at once when it stops', async () => {
      const listed = await nodesOf(a);
      expect(listed.find((n) => n.id === ids.a)?.url).toBe(a.url);
      expect(listed.find((n) => n.id === ids.b)?.url).toBe(b.url);
      const gina = user('gina');
      const onB = await connectWs(`${b.wsUrl}/ws?token=${await b.token(gina)}`);
      const token = await a.token(user('asker'));
      await waitFor('gina online', async () =>
        ((await presenceOver(a, token, [gina])).body.presence as Array<{ online: boolean }>)[0]
          ?.online
          ? true
          : undefined,
      );
      await b.stop();
      await onB.closed;
      expect((await nodesOf(a)).map((n) => n.id)).not.toContain(ids.b);
      const after = (await presenceOver(a, token, [gina])).body.presence as Array<{
        online: boolean;
      }>;
      expect(after[0]?.online).toBe(false);
    });
  },
);
