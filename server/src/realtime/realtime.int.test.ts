// The realtime core over real sockets: auth, live delivery, resume exactly-once, SSE resume.
import { closeCodes } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../store/index.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

// Topics live in a shared Redis on the real-service pass: every run uses its own names.
const run = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe(`realtime gateway (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.stop());

  it('authenticates with a bearer token and delivers pushes to the user topic', async () => {
    const token = await t.token('alice');
    const socket = await connectWs(`${t.wsUrl}/ws`, { authorization: `Bearer ${token}` });
    // Subscribing is asynchronous after the handshake; a ping round-trip orders us after it.
    await socket.request({ op: 'ping' });
    await t.server.realtime.hub.push(['alice'], { type: 'email.new', data: { id: 1 } });
    const event = await socket.next((f) => f.op === 'event');
    expect(event).toMatchObject({
      op: 'event',
      topic: 'user.alice',
      type: 'email.new',
      data: { id: 1 },
    });
    expect(typeof event.seq).toBe('number');
    socket.close();
  });

  it('answers a failing module op with an error frame that carries the request id', async () => {
    t.server.realtime.ops.register('test.fail', () => {
      throw new Error('a bug in the handler');
    });
    t.server.realtime.ops.register('test.database-down', () => {
      throw new DatabaseUnavailableError('connection refused');
    });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token('olga')}`);
    expect(await socket.request({ op: 'test.fail' })).toMatchObject({
      op: 'error',
      code: 'internal_error',
    });
    expect(await socket.request({ op: 'test.database-down' })).toMatchObject({
      op: 'error',
      code: 'database_unavailable',
    });
    // `request` waits for the frame with its id: an error frame without one would time out.
    expect(await socket.request({ op: 'ping' })).toMatchObject({ op: 'pong' });
    socket.close();
  });

  it('accepts a first auth frame and refuses other ops before it', async () => {
    const socket = await connectWs(`${t.wsUrl}/api/v1/ws`);
    const early = await socket.request({ op: 'subscribe', topics: ['broadcast'] });
    expect(early).toMatchObject({ op: 'error', code: 'auth_required' });
    const auth = await socket.request({ op: 'auth', token: await t.token('bob') });
    expect(auth).toMatchObject({ op: 'auth', success: true, userId: 'bob' });
    socket.close();
  });

  it('closes with 4001 on a bad token in the auth frame, and refuses a bad handshake token', async () => {
    const socket = await connectWs(`${t.wsUrl}/ws`);
    socket.send({ op: 'auth', token: 'not.a.jwt' });
    expect((await socket.closed).code).toBe(closeCodes.unauthorized.code);
    await expect(connectWs(`${t.wsUrl}/ws?token=garbage`)).rejects.toThrow(/401/);
  });

  it('closes with 4007 when the token expires, unless an auth frame brought a later one', async () => {
    // Tokens carry whole seconds: the first expires 1-2 s from now, the refreshed one 3-4 s.
    const expiring = await connectWs(`${t.wsUrl}/ws?token=${await t.token('ivy', {}, '2s')}`);
    const refreshed = await connectWs(`${t.wsUrl}/ws?token=${await t.token('ivy', {}, '2s')}`);
    const unlimited = await connectWs(`${t.wsUrl}/ws?token=${await t.token('ivy', {}, '1y')}`);
    const refresh = await refreshed.request({ op: 'auth', token: await t.token('ivy', {}, '4s') });
    expect(refresh).toMatchObject({ success: true, userId: 'ivy' });
    expect((await expiring.closed).code).toBe(closeCodes.token_expired.code);
    expect(refreshed.ws.readyState).toBe(refreshed.ws.OPEN);
    expect((await refreshed.closed).code).toBe(closeCodes.token_expired.code);
    // A token longer than a timer can wait is not scheduled at all; the socket stays.
    expect(await unlimited.request({ op: 'ping' })).toMatchObject({ op: 'pong' });
    unlimited.close();
  });

  it('answers malformed frames and unknown ops with error frames, and stays up', async () => {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token('carol')}`);
    socket.ws.send('{not json');
    expect(await socket.next((f) => f.op === 'error')).toMatchObject({ code: 'invalid_frame' });
    expect(await socket.request({ op: 'fly' })).toMatchObject({ op: 'error', code: 'unknown_op' });
    expect(await socket.request({ op: 'ping' })).toMatchObject({ op: 'pong' });
    socket.close();
  });

  it('refuses topics the user may not read', async () => {
    const socket = await connectWs(`${t.wsUrl}/ws?token=${await t.token('dave')}`);
    const reply = await socket.request({ op: 'subscribe', topics: ['user.erin'] });
    expect(reply).toMatchObject({ op: 'error', code: 'forbidden' });
    socket.close();
  });

  it('resumes after a reconnect with every missed event exactly once, in order', async () => {
    const token = await t.token('frank', { topics: ['news.*'] });
    const topic = `news.${run}`;
    const first = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    const sub = await first.request({ op: 'subscribe', topics: [topic] });
    expect(sub).toMatchObject({ success: true });
    const hub = t.server.realtime.hub;
    for (let i = 1; i <= 5; i++) await hub.publish(topic, { type: 'score', n: i });
    await first.next((f) => f.op === 'event' && f.n === 5);
    const last = first.events(topic).at(-1)!.seq as number;
    first.close();
    await first.closed;

    for (let i = 6; i <= 20; i++) await hub.publish(topic, { type: 'score', n: i });
    const second = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    const resumed = await second.request({
      op: 'subscribe',
      topics: [topic],
      positions: { [topic]: last },
    });
    expect(resumed).toMatchObject({ success: true });
    await hub.publish(topic, { type: 'score', n: 21 });
    await second.next((f) => f.op === 'event' && f.n === 21);
    const got = second.events(topic).map((f) => f.n);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => i + 6));
    second.close();
  });

  it('says resync_required when history no longer covers the resume point', async () => {
    const token = await t.token('gina', { topics: ['old.*'] });
    const topic = `old.${run}`;
    const hub = t.server.realtime.hub;
    const total = t.config.REALTIME_HISTORY_SIZE + 5;
    for (let i = 1; i <= total; i++) await hub.publish(topic, { type: 'tick', n: i });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await socket.request({ op: 'subscribe', topics: [topic], positions: { [topic]: 1 } });
    const resync = await socket.next((f) => f.op === 'resync_required');
    expect(resync).toMatchObject({
      topic,
      from: 1,
      latest: total,
      reason: 'history_trimmed',
    });
    expect(socket.events(topic)).toEqual([]);
    socket.close();
  });

  it('streams SSE with id cursors and resumes from Last-Event-ID without duplicates', async () => {
    const token = await t.token('henry');
    const hub = t.server.realtime.hub;
    const read = async (headers: Record<string, string>, until: (text: string) => boolean) => {
      const controller = new AbortController();
      const res = await fetch(`${t.url}/api/v1/events/stream`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      const reader = res.body!.getReader();
      let text = '';
      const decoder = new TextDecoder();
      const deadline = Date.now() + 5000;
      while (!until(text)) {
        if (Date.now() > deadline) throw new Error(`stream so far: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      controller.abort();
      return text;
    };
    const first = await read({}, (text) => text.includes('event: connected'));
    expect(first.startsWith('retry: ')).toBe(true);
    await hub.push(['henry'], { type: 'sync.started' });
    await hub.push(['henry'], { type: 'sync.completed' });
    const live = await read({}, (text) => text.includes('event: connected'));
    // Resume from a cursor positioned after the first push: only the second comes back.
    const lastId = /id: (.*)\nevent: connected/.exec(live)?.[1];
    expect(lastId).toMatch(/user\.henry=\d+/);
    const seq = Number(/user\.henry=(\d+)/.exec(lastId!)![1]);
    const resumed = await read({ 'last-event-id': `user.henry=${seq - 1}` }, (text) =>
      text.includes('event: connected'),
    );
    const events = [...resumed.matchAll(/event: (\S+)\ndata: (.*)\n/g)].map((m) => m[1]);
    expect(events).toEqual(['sync.completed', 'connected']);
    // The cursor lists every topic's position, in no particular order.
    expect(resumed).toMatch(new RegExp(`id: ([^\\n]*,)?user\\.henry=${seq}(,|\\n)`));
  });
});
