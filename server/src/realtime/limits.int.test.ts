// Connection limits and IP lists over real sockets: each refusal has the right status and error
// code at the handshake (WebSocket and SSE), or the right close code after it; permessage-deflate
// is negotiated only when enabled.
import { closeCodes } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedOf, handshake } from '../test-support/handshake.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 10.255.0.1` });

async function sse(t: TestServer, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(`${t.url}/api/v1/events/stream`, { headers, signal: controller.signal });
  const body = res.status === 200 ? undefined : ((await res.json()) as { error: { code: string } });
  return { status: res.status, body, close: () => controller.abort() };
}

/** Retries until the server has released earlier slots (their TCP closes are asynchronous). */
async function eventually<T>(attempt: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await attempt();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`connection limits and IP lists (${target})`, () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startTestServer({
        env: {
          GRPC_PORT: '0',
          TRUST_PROXY: 'true',
          REALTIME_MAX_CONNECTIONS_PER_USER: '1',
          REALTIME_MAX_CONNECTIONS_PER_IP: '2',
          REALTIME_IP_DENY: '2001:db8::/32, 198.51.100.0/24',
        },
      }),
      startTestServer({
        env: {
          GRPC_PORT: '0',
          TRUST_PROXY: 'true',
          REALTIME_MAX_CONNECTIONS: '2',
          REALTIME_HANDSHAKES_PER_SECOND_PER_IP: '1',
          REALTIME_IP_ALLOW: '10.0.0.0/8,fd00::/8',
          REALTIME_PERMESSAGE_DEFLATE: 'true',
        },
      }),
    ]);
  });
  afterAll(() => Promise.all([a?.stop(), b?.stop()]));

  it('refuses denied IPv4 and IPv6 clients with 403 on WebSocket and SSE', async () => {
    for (const ip of ['2001:db8::7', '198.51.100.4']) {
      const ws = await handshake(`${a.wsUrl}/ws`, from(ip));
      expect(ws).toMatchObject({ ok: false, status: 403, body: { error: { code: 'forbidden' } } });
      const token = await a.token('denied-user');
      const stream = await sse(a, { authorization: `Bearer ${token}`, ...from(ip) });
      expect(stream).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
    const fine = await handshake(`${a.wsUrl}/ws`, from('2001:db9::7'));
    expect(fine.ok).toBe(true);
    if (fine.ok) fine.ws.close();
  });

  it('admits only allowed ranges (IPv4 and IPv6)', async () => {
    const outside = await handshake(`${b.wsUrl}/ws`, from('192.0.2.1'));
    expect(outside).toMatchObject({
      ok: false,
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const outsideV6 = await handshake(`${b.wsUrl}/ws`, from('fe80::1'));
    expect(outsideV6).toMatchObject({ ok: false, status: 403 });
    // Without a trusted X-Forwarded-For the peer address (127.0.0.1) is not in the list either.
    const direct = await fetch(`${b.url}/api/v1/events/stream`);
    expect(direct.status).toBe(403);
    const inside = await handshake(`${b.wsUrl}/ws`, from('fd00::1'));
    expect(inside.ok).toBe(true);
    if (inside.ok) {
      inside.ws.close();
      await closedOf(inside.ws);
    }
  });

  it('limits connections per IP, counting unauthenticated sockets, until one closes', async () => {
    const ip = '203.0.113.5';
    const first = await handshake(`${a.wsUrl}/ws`, from(ip));
    const second = await handshake(`${a.wsUrl}/ws`, from(ip));
    expect([first.ok, second.ok]).toEqual([true, true]);
    const third = await handshake(`${a.wsUrl}/ws`, from(ip));
    expect(third).toMatchObject({
      ok: false,
      status: 429,
      body: { error: { code: 'too_many_connections' } },
    });
    const stream = await sse(a, {
      authorization: `Bearer ${await a.token('ip-user')}`,
      ...from(ip),
    });
    expect(stream).toMatchObject({
      status: 429,
      body: { error: { code: 'too_many_connections' } },
    });
    if (first.ok) first.ws.close();
    const again = await eventually(
      () => handshake(`${a.wsUrl}/ws`, from(ip)),
      (r) => r.ok,
    );
    expect(again.ok).toBe(true);
    for (const r of [second, again]) if (r.ok) r.ws.close();
  });

  it('limits connections per user: 429 at the handshake, 4010 after an auth frame, 429 on SSE', async () => {
    const token = await a.token('single');
    const first = await connectWs(`${a.wsUrl}/ws`, {
      authorization: `Bearer ${token}`,
      ...from('203.0.113.20'),
    });
    await first.request({ op: 'ping' });
    const second = await handshake(`${a.wsUrl}/ws?token=${token}`, from('203.0.113.21'));
    expect(second).toMatchObject({
      ok: false,
      status: 429,
      body: { error: { code: 'too_many_connections' } },
    });
    const viaFrame = await connectWs(`${a.wsUrl}/ws`, from('203.0.113.22'));
    viaFrame.send({ op: 'auth', token });
    expect((await viaFrame.closed).code).toBe(closeCodes.too_many_connections.code);
    const stream = await sse(a, { authorization: `Bearer ${token}`, ...from('203.0.113.23') });
    expect(stream).toMatchObject({
      status: 429,
      body: { error: { code: 'too_many_connections' } },
    });
    // Another user is unaffected.
    const other = await connectWs(
      `${a.wsUrl}/ws?token=${await a.token('someone-else')}`,
      from('203.0.113.24'),
    );
    expect(await other.request({ op: 'ping' })).toMatchObject({ op: 'pong' });
    first.close();
    other.close();
  });

  it('limits connections per node', async () => {
    const one = await eventually(
      () => handshake(`${b.wsUrl}/ws`, from('10.0.0.1')),
      (r) => r.ok,
    );
    const two = await handshake(`${b.wsUrl}/ws`, from('10.0.0.2'));
    expect([one.ok, two.ok]).toEqual([true, true]);
    const three = await handshake(`${b.wsUrl}/ws`, from('10.0.0.3'));
    expect(three).toMatchObject({
      ok: false,
      status: 429,
      body: { error: { code: 'too_many_connections' } },
    });
    for (const r of [one, two]) {
      if (r.ok) {
        r.ws.close();
        await closedOf(r.ws);
      }
    }
  });

  it('rate-limits handshakes per IP with 429 rate_limited', async () => {
    // One per second with a burst of two: the third at once is refused before any count check.
    const ip = '10.0.0.9';
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await handshake(`${b.wsUrl}/ws`, from(ip)));
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    for (const r of results) if (r.ok) r.ws.close();
  });

  it('negotiates permessage-deflate only when enabled, and delivers through it', async () => {
    const off = await handshake(`${a.wsUrl}/ws`, from('203.0.113.40'), { perMessageDeflate: true });
    expect(off.ok && off.ws.extensions).toBe('');
    if (off.ok) off.ws.close();
    const on = await eventually(
      () => handshake(`${b.wsUrl}/ws`, from('10.0.0.40'), { perMessageDeflate: true }),
      (r) => r.ok,
    );
    expect(on.ok && on.ws.extensions).toContain('permessage-deflate');
    if (!on.ok) return;
    const reply = new Promise<string>((resolve) =>
      on.ws.once('message', (d: Buffer) => resolve(d.toString('utf8'))),
    );
    on.ws.send(JSON.stringify({ op: 'ping', id: 1, pad: 'x'.repeat(4096) }));
    expect(JSON.parse(await reply)).toMatchObject({ op: 'pong', id: 1 });
    on.ws.close();
  });
});
