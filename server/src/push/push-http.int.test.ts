// The publish API over HTTP: what other backends send reaches WebSocket clients; keys, scopes and
// bodies are checked with the standard error shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs, type TestSocket } from '../test-support/ws-client.js';

describe(`publish API over HTTP (${target})`, () => {
  let t: TestServer;
  let key: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    key = (await t.server.push.createApiKey({ name: 'email backend' })).key;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await t.stop();
  });

  async function connect(userId: string, claims: Record<string, unknown> = {}) {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token(userId, claims)}`);
    sockets.push(socket);
    // The default subscriptions are made after the handshake; a ping round trip orders us after.
    await socket.request({ op: 'ping' });
    return socket;
  }

  function post(url: string, body: unknown, apiKey: string | null = key) {
    return t.server.app.inject({
      method: 'POST',
      url,
      headers: apiKey === null ? {} : { authorization: `Bearer ${apiKey}` },
      payload: body as Record<string, unknown>,
    });
  }

  it('publishes to a topic over a real socket; subscribers get the event with its seq', async () => {
    const socket = await connect('reader', { topics: ['mail.*'] });
    expect(await socket.request({ op: 'subscribe', topics: ['mail.inbox'] })).toMatchObject({
      success: true,
    });
    const response = await fetch(`${t.url}/api/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        topic: 'mail.inbox',
        event: { type: 'email.received', data: { id: 7 }, timestamp: 1_700_000_000 },
      }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { topic: string; seq: number };
    expect(body.topic).toBe('mail.inbox');
    expect(body.seq).toBeGreaterThan(0);
    const event = await socket.next((f) => f.topic === 'mail.inbox');
    expect(event).toEqual({
      op: 'event',
      topic: 'mail.inbox',
      seq: body.seq,
      type: 'email.received',
      data: { id: 7 },
      timestamp: 1_700_000_000,
    });
  });

  it('pushes one event to 10,000 users and the connected ones receive it once', async () => {
    const userIds = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`);
    const inList = await Promise.all(['bulk-0', 'bulk-4321', 'bulk-9999'].map((u) => connect(u)));
    const outsider = await connect('bulk-outsider');
    const response = await post('/api/v1/push', {
      userIds,
      event: { type: 'email.new', data: { subject: 'hello' } },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ delivered: 10_000 });
    for (const [i, socket] of inList.entries()) {
      const userId = ['bulk-0', 'bulk-4321', 'bulk-9999'][i]!;
      const event = await socket.next((f) => f.type === 'email.new', 20_000);
      expect(event).toMatchObject({ topic: `user.${userId}`, data: { subject: 'hello' } });
    }
    // A broadcast after the push reaches the outsider after anything the push could have sent it.
    await t.server.realtime.hub.broadcast({ type: 'marker' });
    await outsider.next((f) => f.type === 'marker');
    expect(outsider.events().filter((f) => f.type === 'email.new')).toEqual([]);
    for (const socket of inList) {
      await socket.next((f) => f.type === 'marker');
      expect(socket.events().filter((f) => f.type === 'email.new')).toHaveLength(1);
    }
  });

  it('counts a user named twice once, and sends them the event once', async () => {
    const socket = await connect('twice');
    const response = await post('/api/v1/push', {
      userIds: ['twice', 'twice', 'offline-user'],
      event: { type: 'dup.checked' },
    });
    expect(response.json()).toEqual({ delivered: 2 });
    await socket.next((f) => f.type === 'dup.checked');
    await t.server.realtime.hub.push(['twice'], { type: 'marker' });
    await socket.next((f) => f.type === 'marker');
    expect(socket.events().filter((f) => f.type === 'dup.checked')).toHaveLength(1);
  });

  it('broadcasts to every connection', async () => {
    const [a, b] = await Promise.all([connect('cast-a'), connect('cast-b')]);
    const response = await post('/api/v1/broadcast', { event: { type: 'maintenance.scheduled' } });
    expect(response.statusCode, response.body).toBe(200);
    const { seq } = response.json<{ seq: number }>();
    expect(seq).toBeGreaterThan(0);
    for (const socket of [a, b]) {
      expect(await socket.next((f) => f.type === 'maintenance.scheduled')).toEqual({
        op: 'event',
        topic: 'broadcast',
        seq,
        type: 'maintenance.scheduled',
      });
    }
  });

  it('answers 401 without a key, with a malformed key and with a wrong secret', async () => {
    const event = { topic: 'mail.inbox', event: { type: 'x' } };
    const missing = await post('/api/v1/publish', event, null);
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(missing.json()).toEqual({
      error: { code: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') },
    });
    expect((await post('/api/v1/publish', event, 'not-a-key')).json()).toMatchObject({
      error: { code: 'unauthorized' },
    });
    // Right prefix, wrong secret: the hash comparison refuses it.
    const forged = `${key.slice(0, 'sbk_'.length + 13)}${'A'.repeat(43)}`;
    const wrong = await post('/api/v1/publish', event, forged);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({
      error: { code: 'unauthorized', message: 'The API key is not valid.' },
    });
  });

  it('refuses a revoked key at once on the node that revoked it', async () => {
    const created = await t.server.push.createApiKey({ name: 'short-lived' });
    const event = { topic: 'mail.inbox', event: { type: 'x' } };
    expect((await post('/api/v1/publish', event, created.key)).statusCode).toBe(200);
    const revoked = await t.server.push.revokeApiKey(created.prefix);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    const after = await post('/api/v1/publish', event, created.key);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toEqual({
      error: { code: 'unauthorized', message: 'The API key has been revoked.' },
    });
  });

  it('answers 403 for a key without the scope the route needs; admin may do everything', async () => {
    const publishOnly = await t.server.push.createApiKey({ name: 'pub', scopes: ['publish'] });
    const admin = await t.server.push.createApiKey({ name: 'ops', scopes: ['admin'] });
    const event = { type: 'x' };
    expect((await post('/api/v1/publish', { topic: 'a', event }, publishOnly.key)).statusCode).toBe(
      200,
    );
    const push = await post('/api/v1/push', { userIds: ['u'], event }, publishOnly.key);
    expect(push.statusCode).toBe(403);
    expect(push.json()).toEqual({
      error: { code: 'forbidden', message: 'The API key lacks the `push` scope.' },
    });
    expect((await post('/api/v1/broadcast', { event }, publishOnly.key)).statusCode).toBe(403);
    expect((await post('/api/v1/push', { userIds: ['u'], event }, admin.key)).statusCode).toBe(200);
    expect((await post('/api/v1/broadcast', { event }, admin.key)).statusCode).toBe(200);
  });

  it.each([
    ['a bad topic', '/api/v1/publish', { topic: 'has space', event: { type: 'x' } }, 'topic'],
    ['an empty topic segment', '/api/v1/publish', { topic: 'a..b', event: { type: 'x' } }, 'topic'],
    ['an event without type', '/api/v1/publish', { topic: 'a', event: { data: 1 } }, 'event.type'],
    ['a bad event type', '/api/v1/broadcast', { event: { type: 'no spaces' } }, 'event.type'],
    ['a reserved event field', '/api/v1/broadcast', { event: { type: 'x', op: 'y' } }, 'event.op'],
    ['no users', '/api/v1/push', { userIds: [], event: { type: 'x' } }, 'userIds'],
    [
      'too many users',
      '/api/v1/push',
      { userIds: Array.from({ length: 10_001 }, (_, i) => `u${i}`), event: { type: 'x' } },
      'userIds',
    ],
    ['an empty user id', '/api/v1/push', { userIds: [''], event: { type: 'x' } }, 'userIds.0'],
    ['a missing event', '/api/v1/push', { userIds: ['u'] }, 'event'],
  ])('answers 400 invalid_request for %s', async (_name, url, body, path) => {
    const response = await post(url, body);
    expect(response.statusCode, response.body).toBe(400);
    const { error } = response.json<{
      error: { code: string; message: string; details: Array<{ path: string }> };
    }>();
    expect(error.code).toBe('invalid_request');
    expect(error.message.startsWith(`${path}: `), error.message).toBe(true);
    expect(error.details[0]?.path).toBe(path);
  });

  it('answers 400 invalid_json for a body that is not JSON, and 413 over the body limit', async () => {
    const garbled = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/publish',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: '{"topic":',
    });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const huge = await post('/api/v1/publish', {
      topic: 'a',
      event: { type: 'x', blob: 'x'.repeat(t.config.BODY_LIMIT_BYTES) },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('checks the key before reading the body', async () => {
    const response = await post('/api/v1/publish', { nonsense: true }, null);
    expect(response.statusCode).toBe(401);
  });
});
